"""In-memory ports for fast unit tests of use cases (no Postgres, no broker).

They keep the production contracts: an append at a stale version raises ``ConcurrencyConflict`` and
writes nothing, a transaction that raises leaves every fake as it was, a timer fires once.
"""

from shared.testing.memory import FixedClock, InMemoryEventStore, InMemoryTimers, MemoryTransactions, Snapshotting

__all__ = ["FixedClock", "InMemoryEventStore", "InMemoryTimers", "MemoryTransactions", "Snapshotting"]
