"""What matching consumes: profiles (directory, mentees, capacity, departures), HR (reporting line),
relationships (load and rematch)."""

from __future__ import annotations

from services.matching.application.deps import Deps
from services.matching.application.mentor_directory import profile_handlers
from services.matching.application.relationship_events import relationship_handlers
from services.matching.application.reporting_lines import HR_HANDLERS
from shared.bus import HR_TOPIC, topic_for
from shared.inbox import Handler

CONSUMES = [topic_for("profiles"), HR_TOPIC, topic_for("relationships")]


def bus_handlers(deps: Deps) -> dict[str, Handler]:
    return {**profile_handlers(deps), **HR_HANDLERS, **relationship_handlers(deps)}
