"""Injectable clock so tests can move time instead of sleeping.

``DevClock`` is for development only: ``mentorship dev up`` steers the services' time
through a file (``MENTORSHIP_DEV_CLOCK_FILE``) while it plays two years of demo activity,
then removes the file so they carry on in real time.  Production never sets it.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class DevClock:
    """The time written in ``path`` (ISO 8601, aware), or the system clock while the file is absent.

    The file is read again only when its identity (inode, mtime, size) changes, so ``now`` costs a
    ``stat``.  ``DevClockFile.set`` guarantees consecutive writes differ in that identity.
    """

    def __init__(self, path: Path | str, fallback: Clock | None = None) -> None:
        self.path = Path(path)
        self.fallback = fallback or SystemClock()
        self._seen: tuple[int, int, int] | None = None
        self._at: datetime | None = None

    def stamp(self) -> tuple[int, int, int] | None:
        """The file's identity now (None while it is absent): a change means the time was steered."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def now(self) -> datetime:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return self.fallback.now()
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if identity != self._seen:
            try:
                self._at = _parse(self.path.read_text())
            except (FileNotFoundError, ValueError):
                return self.fallback.now() if self._at is None else self._at
            self._seen = identity
        assert self._at is not None
        return self._at


class DevClockFile:
    """The writer's side of ``DevClock``: set the simulated time atomically, or clear it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._last: tuple[int, int, int] | None = None

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("the dev clock takes an aware datetime")
        text = at.astimezone(UTC).isoformat()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            staging = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            staging.write_text(text)
            os.replace(staging, self.path)
            stat = os.stat(self.path)
            identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if identity != self._last:  # coarse mtimes and reused inodes could hide a change from readers
                self._last = identity
                return
            time.sleep(0.002)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def clock_for(settings: object) -> Clock:
    """The services' clock: the dev clock when ``settings.dev_clock_file`` is set, else the system clock."""
    path = getattr(settings, "dev_clock_file", None)
    return DevClock(path) if path else SystemClock()


def _parse(text: str) -> datetime:
    at = datetime.fromisoformat(text.strip())
    if at.tzinfo is None:
        raise ValueError("dev clock file holds a naive time")
    return at
