"""The composition root: everything profiles runs on, built once.

The clock, the event store with the shared personal-data codec (``shared.sealing``: it seals personal
fields as it appends and opens them as it reads), the participant repository with the read-model row as
its commit hook, the Postgres port implementations, the ``hr.events`` handler table and the timers of
forward-dated HR facts, the runtime (pool, broker, relay) and the FastAPI app; the container goes on
``app.state.container``.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.profiles.adapters import bus, http
from services.profiles.adapters.container import ProfilesContainer
from services.profiles.adapters.hr_imports import PostgresHrImports
from services.profiles.adapters.hr_records import PostgresHrRecords
from services.profiles.adapters.postgres import savepoint
from services.profiles.adapters.privacy import inventory
from services.profiles.adapters.queries import Queries
from services.profiles.adapters.read_model import ReadModel
from services.profiles.adapters.scim_groups import PostgresScimGroups
from services.profiles.adapters.scim_users import PostgresScimUsers
from services.profiles.domain.participant import Participant, ParticipantNotFound
from services.profiles.settings import ProfilesSettings
from shared import privacy, standing
from shared.bus import HR_TOPIC
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.eventstore import EventStore
from shared.http import create_app
from shared.repository import Repository
from shared.runtime import ServiceRuntime
from shared.sealing import Sealing
from shared.settings import ServiceSettings
from shared.timers import TimerBook


def build_app(
    settings: ServiceSettings, clock: Clock | None = None, options: ProfilesSettings | None = None
) -> FastAPI:
    clock = clock or clock_for(settings)
    options = options or ProfilesSettings()
    personal_data = Sealing()
    store = EventStore(settings.service_name, clock, personal_data)
    runtime = ServiceRuntime(
        settings,
        privacy=inventory,
        migrations=migrations_from_package("services.profiles.migrations"),
        consumes=[HR_TOPIC],
        consumer_fetch_max_wait_ms=options.hr_feed_fetch_wait_ms,
        clock=clock,
        codec=personal_data,
        store=store,
    )
    container = build_container(runtime, store, personal_data, clock, options)
    runtime.handlers = bus.hr_handlers(container).inbox_handlers()
    runtime.timer_handlers = bus.hr_timer_handlers(container)
    app = create_app(
        runtime,
        title="Mentorship · profiles",
        description="Participants, roles, capacity, consent.",
        tags={
            "participants": "Registration as mentor or mentee, the profile, capacity, training and erasure.",
            "directory": "The mentor directory participants browse.",
            "hr import": "Bulk HR import sessions for institutions without a feed.",
            "scim-users": "SCIM 2.0 users (RFC 7644) for identity providers: each user is an HR worker. "
            "Answers are application/scim+json; errors are SCIM error messages.",
            "scim-groups": "SCIM 2.0 groups: each group is a department; members move between departments.",
            "aggregates": "Demographic aggregates with small cells withheld, for the analytics service only.",
            "scim-discovery": "SCIM 2.0 discovery: service provider configuration, resource types, schemas, search.",
        },
    )
    app.state.container = container
    http.install(app)
    return app


def build_container(
    runtime: ServiceRuntime,
    store: EventStore,
    personal_data: Sealing,
    clock: Clock,
    options: ProfilesSettings | None = None,
) -> ProfilesContainer:
    """The Postgres ports; transactions and reads use the runtime's pool once it exists."""
    read_model = ReadModel()
    return ProfilesContainer(
        transactions=runtime.transaction,
        savepoint=savepoint,
        participants=Repository(
            store,
            Participant,
            not_found=ParticipantNotFound,
            on_commit=[read_model.rewrite_row, standing.commit_hook],
            on_commit_many=[read_model.rewrite_rows, standing.commit_many_hook],
        ),
        people=read_model,
        hr=PostgresHrRecords(),
        timers=TimerBook(),
        imports=PostgresHrImports(),
        scim_users=PostgresScimUsers(),
        scim_groups=PostgresScimGroups(),
        keys=personal_data,
        receipts=privacy.Receipts(inventory),
        clock=clock,
        queries=Queries(runtime),
        aggregates=options or ProfilesSettings(),
    )
