"""Projections dispatch on the event catalog's classes and read every payload as the current version.

A projection's rules are keyed by catalog classes (``{RequestRanked: rule}``); ``by_type`` resolves them
to the type names envelopes carry, once at import, and refuses a class the catalog does not publish, so
a misspelt or removed event fails at import instead of silently never matching.

Before a rule reads a payload it is brought to the class's current ``schema_version`` through the
catalog's upcasters (``Event.upcast``). On the hot path that is one comparison of two ints: a replay reads millions
of events, nearly all of the current version, and their payloads are used as decoded (no pydantic
validation per event; ``shared.envelope.read_envelope`` decodes with msgspec). Only an older version
calls ``upcast`` on a copy of the payload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from shared.envelope import EnvelopeRecord
from shared.events import Event
from shared.events.catalog import catalog_events

R = TypeVar("R")

PUBLISHED: dict[str, type[Event]] = {event.type_name(): event for event in catalog_events()}
"""Every event type of the published catalog, by the name envelopes carry."""


def by_type(rules: Mapping[type[Event], R]) -> dict[str, tuple[type[Event], int, R]]:
    """``{EventClass: rule}`` as ``{type name: (EventClass, its current schema version, rule)}``; a class
    outside the catalog is an error.

    The version is read here, once: it is a class attribute of a pydantic model, and reading one costs
    about ten times an item of a tuple, per event of a replay.
    """
    resolved = {}
    for event, rule in rules.items():
        if PUBLISHED.get(event.type_name()) is not event:
            raise LookupError(f"{event.__qualname__} is not an event of the published catalog")
        resolved[event.type_name()] = (event, event.schema_version, rule)
    return resolved


def by_type_or_name(rules: Mapping[type[Event] | str, R]) -> dict[str, tuple[type[Event] | None, int, R]]:
    """As ``by_type``, and rules keyed by a type *name* for events the contract names but this catalog may not
    define yet (issue 17's ``ProgramDefined``, ``GroupFormed``…): the catalog's class when it has one (its
    payloads upcast like any other), else ``(None, 0, rule)`` and the payload is read as it arrived."""
    resolved: dict[str, tuple[type[Event] | None, int, R]] = {}
    for key, rule in rules.items():
        if isinstance(key, str):
            event = PUBLISHED.get(key)
            resolved[key] = (event, event.schema_version, rule) if event is not None else (None, 0, rule)
        else:
            resolved |= by_type({key: rule})
    return resolved


def payload(event: type[Event] | None, version: int, envelope: EnvelopeRecord) -> dict[str, Any]:
    """The payload as the current version of its class (``by_type_or_name``'s entry): as decoded when the
    versions match or the class is unknown here, else upcast."""
    if event is None or envelope.schemaversion == version:
        return envelope.data
    return upcast(event, envelope)


def upcast(event: type[Event], envelope: EnvelopeRecord) -> dict[str, Any]:
    """Called by a projection when ``envelope.schemaversion`` is not the current version ``by_type`` resolved
    (``data = envelope.data if envelope.schemaversion == version else upcast(event, envelope)``).

    An older payload brought to the current version by the catalog's upcasters (on a copy: the envelope's
    own payload is left as it arrived). A newer version than this code knows is read as it is (unknown
    fields are ignored, as the catalog's models do)."""
    return event.upcast(dict(envelope.data), envelope.schemaversion)


def apply_rules(
    events: Iterable[EnvelopeRecord],
    rules: Mapping[str, tuple[type[Event], int, Any]],
    call: Callable[[Any, EnvelopeRecord, dict[str, Any]], None],
    log: Any,
    skipped: str,
) -> None:
    """For each event a projection has a rule for: its payload at the current version (``upcast``), then
    ``call(rule, envelope, data)``; a payload the rule cannot read is logged (``skipped``) and left out."""
    for envelope in events:
        found = rules.get(envelope.type)
        if found is None:
            continue
        event, version, rule = found
        try:
            data = envelope.data if envelope.schemaversion == version else upcast(event, envelope)
            call(rule, envelope, data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning(skipped, event_id=str(envelope.id), error=repr(exc))
