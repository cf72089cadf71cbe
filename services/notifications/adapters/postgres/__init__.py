"""The Postgres implementations of the ports in ``application/ports.py`` (tables: ``migrations/``)."""

from services.notifications.adapters.postgres.contacts import PostgresContacts, PostgresPreferences
from services.notifications.adapters.postgres.facts import PostgresRelationships, PostgresRequests
from services.notifications.adapters.postgres.intents import WAKE_CHANNEL, PostgresIntents
from services.notifications.adapters.postgres.pools import PoolTransactions

__all__ = [
    "WAKE_CHANNEL",
    "PoolTransactions",
    "PostgresContacts",
    "PostgresIntents",
    "PostgresPreferences",
    "PostgresRelationships",
    "PostgresRequests",
]
