"""What every use case is handed: the clock, the settings and the ports (built once in ``bootstrap.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.notifications.application.ports import (
    Contacts,
    EventLog,
    Intents,
    PreferenceBook,
    Relationships,
    Requests,
)
from services.notifications.domain.retry import RetryPolicy
from services.notifications.settings import NotificationsSettings
from shared.clock import Clock
from shared.ports import TimersPort, Transactions


@dataclass(frozen=True)
class Deps:
    store: EventLog
    clock: Clock
    options: NotificationsSettings
    transactions: Transactions
    """The service's pool (the API); consumer steps and timer handlers are handed their transaction."""
    contacts: Contacts
    preferences: PreferenceBook
    requests: Requests
    relationships: Relationships
    intents: Intents
    timers: TimersPort

    @property
    def directors(self) -> list[str]:
        return [*self.options.director_ids, *self.options.director_emails]

    @property
    def channels_available(self) -> set[str]:
        return {"email", "webhook"} if self.options.webhook_url else {"email"}

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.options.max_attempts, timedelta(seconds=self.options.retry_first_seconds))
