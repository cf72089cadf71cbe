"""Event catalog: every payload model, importable from one place."""

from shared.events.base import Event, UnknownEventType, all_event_classes, decode, event_class

__all__ = ["Event", "UnknownEventType", "all_event_classes", "decode", "event_class"]
from shared.events import catalog  # noqa: F401  (registers every event type)
