"""A rendered message on its way out, and what a channel promises."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    notification_id: uuid.UUID
    message_id: str
    cause_id: str
    recipient_id: str
    name: str | None
    email: str | None
    template: str
    subject: str
    text: str
    html: str
    calendar: str | None = None
    """An iCalendar object (RFC 5545) sent with the message as ``invite.ics``: a meeting's invitation."""


@dataclass(frozen=True)
class Rendered:
    """A template rendered for one recipient (with its invitation's iCalendar text, when it carries one)."""

    subject: str
    text: str
    html: str
    calendar: str | None = None


class Channel(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Return once the receiver accepted the message; raise otherwise."""


class Undeliverable(Exception):
    """The message cannot be sent as it stands (e.g. no address known yet)."""
