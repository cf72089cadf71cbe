"""The one way a service says what it does with the events it consumes.

    handlers = EventHandlers()

    @handlers.on(MatchApproved)
    async def start_relationship(conn, event: MatchApproved, envelope) -> None: ...

A step receives the event already decoded (and upcast) to the class it registered for, so it never
checks types itself.  Several steps for one event type run in the order they were registered, in the
consumer's one transaction.  ``inbox_handlers()`` gives the idempotent consumer its table by type name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.envelope import Envelope
from shared.events import Event
from shared.inbox import Handler, PermanentError

Step = Callable[[Any, Any, Envelope], Awaitable[None]]
"""``(conn, event, envelope)``: the consumer's transaction, the typed event and its envelope."""


class EventHandlers:
    def __init__(self, *, permanent: tuple[type[Exception], ...] = ()) -> None:
        """``permanent``: errors a step raises that no retry can cure (an impossible fact, an unknown
        subject); the consumer dead-letters the event with the error's message instead of retrying it."""
        self._steps: dict[str, list[Step]] = {}
        self.permanent = permanent

    def on(self, *event_types: type[Event]) -> Callable[[Step], Step]:
        """Decorator: run the step for each of ``event_types``."""
        if not event_types:
            raise TypeError("name at least one event type")

        def register(step: Step) -> Step:
            for event_type in event_types:
                self.add(event_type, step)
            return step

        return register

    def add(self, event_type: type[Event], step: Step) -> None:
        self._steps.setdefault(event_type.type_name(), []).append(step)

    def include(self, other: EventHandlers) -> EventHandlers:
        """Take over another table's steps (after this one's, for a shared type)."""
        for name, steps in other._steps.items():
            self._steps.setdefault(name, []).extend(steps)
        return self

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self._steps)

    def inbox_handlers(self) -> dict[str, Handler]:
        return {name: _in_order(steps, self.permanent) for name, steps in self._steps.items()}


def _in_order(steps: list[Step], permanent: tuple[type[Exception], ...]) -> Handler:
    if len(steps) == 1 and not permanent:
        return steps[0]

    async def run_all(conn: Any, event: Event, envelope: Envelope) -> None:
        try:
            for step in steps:
                await step(conn, event, envelope)
        except permanent as exc:
            raise PermanentError(str(exc)) from exc

    return run_all
