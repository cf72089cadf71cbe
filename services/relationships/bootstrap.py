"""The composition root: everything the relationships service runs, built once.

The HTTP API, the consumer of matching's and profiles' events, and the cadence and
review timers share one clock (injectable for tests), one event store, one
relationship repository (whose commits rewrite the view row and the timers) and
one container of ports (``application/container.py``), stored as ``app.state.container``.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.relationships.adapters.bus import bus_handlers
from services.relationships.adapters.cipher import AesGcmCipher, KeyRingError
from services.relationships.adapters.confidential import PostgresConfidentialTexts
from services.relationships.adapters.drafts import PostgresAgreementDrafts
from services.relationships.adapters.http import install
from services.relationships.adapters.privacy import inventory
from services.relationships.adapters.programs import PostgresPeopleStanding, PostgresProgramTerms
from services.relationships.adapters.read_model import PostgresReadModel
from services.relationships.adapters.scheduling_bus import add_scheduling_handlers
from services.relationships.adapters.scheduling_http import install_scheduling
from services.relationships.adapters.scheduling_postgres import PostgresCalendars, PostgresScheduledMeetings
from services.relationships.adapters.survey_bus import add_survey_handlers, survey_timer_handlers
from services.relationships.adapters.survey_http import install_surveys
from services.relationships.adapters.survey_privacy import with_surveys
from services.relationships.adapters.survey_store import PostgresSurveyStore
from services.relationships.application.container import Container, relationship_repository
from services.relationships.application.fire_timers import timer_handlers
from services.relationships.application.nudge_watch import (
    NudgeRules,
    NudgeWatch,
    Nudging,
    nudge_timer_handlers,
    nudges_repository,
)
from services.relationships.application.open_surveys import SurveyWatch
from services.relationships.application.schedule_meeting import Scheduling, meeting_repository
from services.relationships.application.survey_ports import Surveys
from services.relationships.domain.survey import Survey, SurveyNotFound
from services.relationships.settings import RelationshipsSettings
from shared import privacy
from shared.bus import topic_for
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.eventstore import EventStore
from shared.http import create_app
from shared.repository import Repository
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from shared.startup_checks import Finding, placeholder
from shared.timers import TimerBook, gathering


def build_app(
    settings: ServiceSettings, clock: Clock | None = None, options: RelationshipsSettings | None = None
) -> FastAPI:
    clock = clock or clock_for(settings)
    options = options or RelationshipsSettings()
    store = EventStore(settings.service_name, clock)
    runtime = ServiceRuntime(
        settings,
        privacy=with_surveys(inventory),
        migrations=migrations_from_package("services.relationships.migrations"),
        consumes=[topic_for("matching"), topic_for("profiles")],
        clock=clock,
        store=store,
    )
    container = build_container(runtime, store, clock, options)
    scheduling = build_scheduling(container, store)
    surveys = build_surveys(runtime, store, container, options)
    handlers = add_survey_handlers(add_scheduling_handlers(bus_handlers(container), scheduling), surveys)
    runtime.handlers = privacy.guarded(handlers).inbox_handlers()
    runtime.timer_handlers = {
        **timer_handlers(container),
        **nudge_timer_handlers(build_nudging(container, store, options)),
        **survey_timer_handlers(surveys),
    }
    # every hook is on by now: the cadence, nudge and survey watches' timer work goes in one statement per commit
    container.relationships.on_commit = (gathering(container.relationships.on_commit),)
    app = create_app(
        runtime,
        title="Mentorship · relationships",
        description="Relationships, agreements, goals, meetings, cadence, reviews, feedback and closure.",
        tags={
            "relationships": "Relationships from start to closure: agreement, meetings, goals, reviews, feedback.",
            "meetings": "Scheduled meetings: availability, proposals, acceptance, reschedule, cancellation, held.",
            "surveys": "Surveys per program: templates, open surveys, answers (text answers for the respondent only).",
        },
    )
    install(app, container)
    install_scheduling(app, scheduling)
    install_surveys(app, surveys)
    return app


def build_nudging(container: Container, store: EventStore, options: RelationshipsSettings) -> Nudging:
    """Nudges beside the cadence watch: their hook joins the relationship repository's (``nudge_watch.py``)."""
    rules = NudgeRules(
        grace=container.cadence_grace,
        programs=container.programs,
        nudge_days_before_lagging=options.nudge_days_before_lagging,
        inactive_notice_days=options.inactive_notice_days,
    )
    timers = TimerBook()
    repository = container.relationships
    repository.on_commit = (*repository.on_commit, NudgeWatch(timers, rules))
    return Nudging(
        repository,
        nudges_repository(store),
        PostgresScheduledMeetings(),
        timers,
        rules,
        container.today,
        container.clock.now,
    )


def build_scheduling(container: Container, store: EventStore) -> Scheduling:
    """Scheduled meetings beside the relationships: their repository and ports (``schedule_meeting.py``)."""
    scheduled = PostgresScheduledMeetings()
    return Scheduling(container, meeting_repository(store, scheduled), PostgresCalendars(), scheduled)


def build_surveys(runtime: ServiceRuntime, store: EventStore, c: Container, options: RelationshipsSettings) -> Surveys:
    """Surveys (issue 18): their repository, and a commit hook on the relationships' that opens them."""
    surveys = Surveys(
        transactions=runtime.transaction,
        surveys=Repository(store, Survey, not_found=SurveyNotFound),
        relationships=c.relationships,
        store=PostgresSurveyStore(),
        programs=c.programs,
        timers=TimerBook(),
        cipher=c.cipher,
        clock=c.clock,
        expires_after=timedelta(days=options.survey_expiry_days),
    )
    c.relationships.on_commit = (*c.relationships.on_commit, SurveyWatch(surveys))
    return surveys


def build_container(
    runtime: ServiceRuntime, store: EventStore, clock: Clock, options: RelationshipsSettings
) -> Container:
    """The use cases' container on the Postgres ports (transactions on the runtime's pool once it runs)."""
    cipher = AesGcmCipher.from_setting(options.confidential_keys)
    read_model = PostgresReadModel()
    grace = timedelta(days=options.cadence_grace_days)
    return Container(
        transactions=runtime.transaction,
        relationships=relationship_repository(store, read_model, TimerBook(), grace),
        drafts=PostgresAgreementDrafts(),
        texts=PostgresConfidentialTexts(),
        read_model=read_model,
        cipher=cipher,
        clock=clock,
        programs=PostgresProgramTerms(),
        standing=PostgresPeopleStanding(),
        cadence_grace=grace,
        topics=tuple(options.meeting_topics),
    )


KEYS_SETTING = "MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS"


def startup_findings() -> list[Finding]:
    """The confidential-note key ring (``shared.startup_checks``): set, well formed, no public key in it."""
    ring = RelationshipsSettings().confidential_keys
    if not ring:
        return [Finding(KEYS_SETTING, "is not set (notes would be sealed under the public development key)")]
    if word := placeholder(ring):
        return [Finding(KEYS_SETTING, f"is a placeholder (starts with {word!r})")]
    try:
        cipher = AesGcmCipher.from_setting(ring)
    except (KeyRingError, ValueError) as exc:
        return [Finding(KEYS_SETTING, f"is not a key ring: {exc}")]
    if cipher.holds_development_key:
        return [Finding(KEYS_SETTING, "holds the public development key")]
    return []
