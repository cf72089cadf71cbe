"""Run the relationships service: ``python -m services.relationships`` (settings from MENTORSHIP_* env).

Wiring: the HTTP API, the consumer of matching's and profiles' events, and the
cadence and review timers, all on one clock (injectable for tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from fastapi import FastAPI

from services.relationships.adapters import read_model
from services.relationships.adapters.bus import bus_handlers
from services.relationships.adapters.cipher import Cipher
from services.relationships.adapters.http import install
from services.relationships.application.cadence_watch import CadenceWatch
from services.relationships.application.deps import Deps
from services.relationships.application.fire_timers import timer_handlers
from services.relationships.domain.errors import RelationshipNotFound
from services.relationships.domain.relationship import Relationship
from services.relationships.settings import RelationshipsSettings
from shared.bus import topic_for
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.events import Event
from shared.eventstore import EventStore
from shared.http import create_app
from shared.logging import get_logger
from shared.ports import Conn
from shared.repository import Repository
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings
from shared.timers import TimerBook

log = get_logger(__name__)


def build_app(
    settings: ServiceSettings, clock: Clock | None = None, options: RelationshipsSettings | None = None
) -> FastAPI:
    clock = clock or clock_for(settings)
    options = options or RelationshipsSettings()
    cipher = Cipher.from_setting(options.confidential_keys)
    if cipher.is_development_key:
        log.warning("confidential texts use the public development key: set MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS")
    store = EventStore(settings.service_name, clock)
    grace = timedelta(days=options.cadence_grace_days)

    async def save_view(conn: Conn, relationship: Relationship, events: Sequence[Event], now: datetime) -> None:
        await read_model.save(conn, relationship)

    relationships = Repository(
        store,
        Relationship,
        not_found=lambda rid: RelationshipNotFound(f"no relationship {rid}"),
        on_commit=[save_view, CadenceWatch(TimerBook(), grace)],
    )
    deps = Deps(
        relationships=relationships,
        clock=clock,
        cipher=cipher,
        cadence_grace=grace,
        topics=tuple(options.meeting_topics),
    )
    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.relationships.migrations"),
        handlers=bus_handlers(deps),
        consumes=[topic_for("matching"), topic_for("profiles")],
        timer_handlers=timer_handlers(deps),
        clock=clock,
        store=store,
    )
    app = create_app(
        runtime,
        title="Mentorship · relationships",
        description="Relationships, agreements, goals, meetings, cadence, reviews, feedback and closure.",
    )
    install(app, deps)
    return app


if __name__ == "__main__":
    serve(build_app, service_name="relationships", default_port=8003)
