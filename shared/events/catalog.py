"""Loads every payload module so that the registry in ``base`` knows all event types."""

from __future__ import annotations

from shared.events import hr, matching, notifications, profiles, relationships
from shared.events.base import Event, all_event_classes

_MODULES = {module.__name__ for module in (profiles, matching, relationships, notifications, hr)}

OWNERS = ("profiles", "matching", "relationships", "notifications", "hr")


def topic_of(owner: str) -> str:
    """Each service publishes on ``<service>.events``; HR's inbound feed is ``hr.events``."""
    return f"{owner}.events"


def catalog_events() -> list[type[Event]]:
    """The published contract, sorted by name: events defined in these modules, not elsewhere (e.g. tests)."""
    return [cls for cls in all_event_classes().values() if cls.__module__ in _MODULES]


def events_by_topic() -> dict[str, list[type[Event]]]:
    topics: dict[str, list[type[Event]]] = {topic_of(owner): [] for owner in OWNERS}
    for cls in catalog_events():
        topics[topic_of(cls.owner)].append(cls)
    return topics
