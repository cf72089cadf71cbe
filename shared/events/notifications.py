"""Events published by the notifications service on ``notifications.events``; subject = notification id.

Message bodies never travel: they may quote confidential details, and the
template name plus the cause is enough to audit what was sent.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from shared.events.base import Event

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _NotificationsEvent(Event):
    owner: ClassVar[str] = "notifications"
    data_subjects: ClassVar[tuple[str, ...]] = ("recipient_id",)

    notification_id: Id
    cause_event_id: Id = Field(description="Envelope id of the event that called for this notification")
    recipient_id: Id = Field(json_schema_extra={"person_id": True})
    channel: Literal["email", "webhook"]
    template: str = Field(min_length=1, max_length=100, description="e.g. introduction, request_forwarded")


class NotificationSent(_NotificationsEvent):
    attempts: int = Field(default=1, ge=1)


class NotificationFailed(_NotificationsEvent):
    """Delivery was given up after the last attempt."""

    error: str = Field(
        max_length=2000, description="Free text; may quote an address", json_schema_extra={"personal": True}
    )
    attempts: int = Field(ge=1)
