"""What every use case needs besides a connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.notifications.domain.retry import RetryPolicy
from services.notifications.settings import NotificationsSettings
from shared.clock import Clock
from shared.eventstore import EventStore

WAKE_CHANNEL = "notification_intents"


@dataclass(frozen=True)
class Deps:
    store: EventStore
    clock: Clock
    options: NotificationsSettings

    @property
    def directors(self) -> list[str]:
        return [*self.options.director_ids, *self.options.director_emails]

    @property
    def channels_available(self) -> set[str]:
        return {"email", "webhook"} if self.options.webhook_url else {"email"}

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.options.max_attempts, timedelta(seconds=self.options.retry_first_seconds))
