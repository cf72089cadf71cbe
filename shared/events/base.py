"""Base class and registry for event payloads.

Every payload class registers itself by name when it is defined.  A payload's
``schema_version`` grows when its shape changes; ``upcasters[n]`` turns the
dict of version ``n`` into version ``n + 1`` so that old events in the store
or on a topic are read as the current model.  Fields a newer producer added
are ignored (``extra="ignore"``), so a consumer never breaks on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_registry: dict[str, type[Event]] = {}


class UnknownEventType(LookupError):
    pass


class UnknownEventVersion(LookupError):
    """A payload of a newer ``schema_version`` than this code's catalog knows (its producer was upgraded first).

    Consumers dead-letter it with this message (``shared.inbox``: reason ``unknown-schema-version``) rather
    than read a shape they were not written for; once the consumer is upgraded the record can be sent again
    from the dead-letter topic."""

    def __init__(self, type_name: str, version: int, known: int) -> None:
        self.type_name, self.version, self.known = type_name, version, known
        super().__init__(
            f"{type_name} has schema version {version}, newer than this reader's catalog (version {known})"
        )


class Event(BaseModel):
    """A fact that happened, in the past tense.

    ``owner`` names the publishing service (its topic is ``<owner>.events``).
    Subclasses whose names start with ``_`` are abstract and not registered.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    owner: ClassVar[str]
    schema_version: ClassVar[int] = 1
    data_subjects: ClassVar[tuple[str, ...]] = ()
    """The fields naming whom the event's personal fields are about (``shared.sealing`` seals them with those
    people's keys); empty: the people its stream's first event names (e.g. a request's mentee)."""
    upcasters: ClassVar[dict[int, Upcaster]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):
            return  # per-service base classes such as _ProfilesEvent are not events
        if cls.__name__ in _registry and _registry[cls.__name__] is not cls:
            raise TypeError(f"event type {cls.__name__} is defined twice")
        _registry[cls.__name__] = cls

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    @classmethod
    def upcast(cls, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        """``data`` of ``from_version`` brought to the current version, one upcaster after another; a newer
        version is returned as it is (callers that must not read it check ``knows`` first)."""
        for version in range(from_version, cls.schema_version):
            data = cls.upcasters[version](data)
        return data

    @classmethod
    def knows(cls, schema_version: int) -> bool:
        """Whether this code can read a payload of ``schema_version``: the current one or an older one."""
        return 1 <= schema_version <= cls.schema_version

    @classmethod
    def from_stored(cls, data: dict[str, Any], schema_version: int) -> Event:
        """The current model of a stored or received payload; ``UnknownEventVersion`` for a newer version."""
        if schema_version > cls.schema_version:
            raise UnknownEventVersion(cls.type_name(), schema_version, cls.schema_version)
        return cls.model_validate(cls.upcast(dict(data), schema_version))


def event_class(type_name: str) -> type[Event]:
    try:
        return _registry[type_name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {type_name!r}") from None


def all_event_classes() -> dict[str, type[Event]]:
    return dict(sorted(_registry.items()))


def decode(type_name: str, data: dict[str, Any], schema_version: int) -> Event:
    """Validate a stored or received payload into its current model, upcasting old versions."""
    return event_class(type_name).from_stored(data, schema_version)
