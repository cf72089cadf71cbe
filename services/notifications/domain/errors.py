"""The notifications service's own errors (the HTTP ones subclass the shared bases, mapped once)."""

from __future__ import annotations

from shared.errors import InvalidCommand, NotAllowed


class UnknownSubject(LookupError):
    """An event about a request or relationship whose first event notifications never saw: retrying
    cannot help, so the consumer dead-letters it (``adapters/bus.py``)."""


class ChannelUnavailable(InvalidCommand):
    """A participant chose a channel this institution has not configured (422 naming ``channels``)."""

    def __init__(self, channels: list[str]) -> None:
        super().__init__("channels", f"{', '.join(channels)} is not configured for this institution")


class NotTheirs(NotAllowed):
    """Someone other than the participant (and not an admin) asked for their preferences (403)."""

    def __init__(self) -> None:
        super().__init__("only the participant themself or an admin")
