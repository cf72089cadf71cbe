"""The one aggregate shape every service follows.

An aggregate is a plain dataclass in a service's ``domain/`` package.  It is rebuilt from its stream
(``rebuild``), its commands return the events they decide (they never change state themselves), and
``apply`` evolves it by one recorded event.  Only the repository (``shared.repository``) calls
``apply`` after an append, so state and stream never disagree.

Subclasses are dataclasses whose first field is the stream id and which have ``version: int = 0``;
they implement ``evolve(event, at)`` and name their stream id field in ``id_field``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Self

from shared.events import Event

Recorded = tuple[Event, datetime]
"""An event as the stream holds it: the payload and when it was recorded."""


class Aggregate:
    """Mixin for event-sourced aggregates (see the module docstring)."""

    version: int
    id_field: ClassVar[str]
    """The dataclass field that holds the stream id (e.g. ``request_id``)."""

    @classmethod
    def rebuild(cls, stream_id: str, history: Iterable[Recorded]) -> Self:
        """The aggregate as its recorded history left it (a new, empty one for an empty history)."""
        aggregate = cls(**{cls.id_field: stream_id})  # type: ignore[call-arg]
        for event, at in history:
            aggregate.apply(event, at)
        return aggregate

    @property
    def stream_id(self) -> str:
        return getattr(self, self.id_field)

    @property
    def exists(self) -> bool:
        return self.version > 0

    def apply(self, event: Event, at: datetime) -> None:
        """Evolve by one recorded event; the version counts events, so it is the stream's version."""
        self.version += 1
        self.evolve(event, at)

    def apply_all(self, events: Sequence[Event], at: datetime) -> None:
        for event in events:
            self.apply(event, at)

    def evolve(self, event: Event, at: datetime) -> None:  # pragma: no cover - every aggregate overrides it
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id_field" not in cls.__dict__ and not any("id_field" in base.__dict__ for base in cls.__mro__[1:-1]):
            raise TypeError(f"{cls.__name__} must name its stream id field in `id_field`")
