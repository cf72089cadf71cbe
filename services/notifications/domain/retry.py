"""Back-off for failed deliveries, and what happens to a send interrupted by a crash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=2)

    def next_delay(self, attempts: int) -> timedelta | None:
        """Wait before the next try after ``attempts`` failed ones; None: give up."""
        if attempts >= self.max_attempts:
            return None
        return min(self.first_delay * 2 ** (attempts - 1), self.max_delay)


MAX_CRASH_RESENDS = 1
"""An intent found "sending" after its claim lapsed (the sender died between the
receiver's acceptance and our record of it) is sent again with the same
Message-ID at most this many times; after that its outcome is "unknown"."""
