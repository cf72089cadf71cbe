"""The matching service's composition root: everything built once, here.

Clock, event store, the Postgres ports, the request repository with its commit hooks, transactions on the
runtime's pool (bound once the pool exists), the consumed-event table, the timer handlers, the runtime and
the FastAPI app, which holds the container as ``app.state.container``.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.matching.adapters.bulk_runs import PostgresBulkRuns
from services.matching.adapters.bus import CONSUMES, bus_handlers
from services.matching.adapters.directory import PostgresDirectory
from services.matching.adapters.http import install
from services.matching.adapters.privacy import inventory
from services.matching.adapters.programs import PostgresEnrolments, PostgresPrograms
from services.matching.adapters.reporting_lines import PostgresReportingLines
from services.matching.adapters.request_index import PostgresRequestIndex
from services.matching.adapters.slots import PostgresSlots
from services.matching.adapters.timers import timer_handlers
from services.matching.adapters.views import PostgresViews
from services.matching.application.deps import Deps
from services.matching.application.program import enrolment_repository, program_repository
from services.matching.application.request_repository import request_repository
from services.matching.settings import MatchingSettings
from shared import privacy
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.eventstore import EventStore
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from shared.timers import TimerBook, gathering


def build_app(
    settings: ServiceSettings, clock: Clock | None = None, options: MatchingSettings | None = None
) -> FastAPI:
    clock = clock or clock_for(settings)
    options = options or MatchingSettings()
    store = EventStore(settings.service_name, clock)
    runtime = ServiceRuntime(
        settings,
        privacy=inventory,
        migrations=migrations_from_package("services.matching.migrations"),
        consumes=CONSUMES,
        clock=clock,
        store=store,
    )
    lines = PostgresReportingLines()
    slots = PostgresSlots(lines)
    index = PostgresRequestIndex()
    programs, enrolments = PostgresPrograms(), PostgresEnrolments()
    requests = request_repository(store, slots, index, TimerBook())
    # a forwarded request's deadline timers (the next choice's armed, the last one's cancelled): one statement
    requests.on_commit = (gathering(requests.on_commit),)
    deps = Deps(
        transactions=runtime.transaction,
        store=store,
        requests=requests,
        clock=clock,
        directory=PostgresDirectory(),
        slots=slots,
        lines=lines,
        index=index,
        programs=programs,
        bulk_runs=PostgresBulkRuns(),
        views=PostgresViews(runtime),
        program_repo=program_repository(store, programs),
        enrolments=enrolments,
        enrolment_repo=enrolment_repository(store, enrolments),
        default_response_days=options.response_days,
        bulk_candidates=options.bulk_candidates,
    )
    runtime.handlers = privacy.guarded(bus_handlers(deps)).inbox_handlers()
    runtime.timer_handlers = timer_handlers(deps)
    app = create_app(
        runtime,
        title="Mentorship · matching",
        description="Requests, forwarding, suggestions, bulk runs.",
        tags={
            "directory": "Matching's mentor directory with open slots.",
            "requests": "Mentee requests: ranking, the director's review, mentor responses, admin matches, withdrawal.",
            "suggestions": "Ranked mentor suggestions for a mentee.",
            "program": 'Programs: settings, enrolments, groups; the built-in program is "default".',
            "bulk runs": "Matching many mentees at once: propose, inspect, commit or discard.",
        },
    )
    install(app, deps)
    return app
