"""What the routes use, built once by the composition root (``bootstrap.build_app``)."""

from __future__ import annotations

from services.analytics.projecting.replay import Replays
from services.analytics.projecting.snapshots import SnapshotPolicy
from services.analytics.querying.reads import Reads
from shared.runtime import ServiceRuntime


class AnalyticsContainer:
    def __init__(
        self, runtime: ServiceRuntime, reads: Reads, topics: list[str], snapshots: SnapshotPolicy | None = None
    ) -> None:
        self.runtime, self.reads, self.topics = runtime, reads, topics
        self.snapshots = snapshots or SnapshotPolicy()
        self._replays: Replays | None = None

    @property
    def replays(self) -> Replays:
        """This process's replays (built on first use: they need the pool, which exists once the service runs)."""
        if self._replays is None:
            self._replays = Replays(self.runtime.pool, self.runtime.settings, self.topics, self.snapshots)
        return self._replays
