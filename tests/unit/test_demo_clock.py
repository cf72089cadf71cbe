"""The dev clock: the time a file holds, or the system's when there is no file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import DevClock, DevClockFile, SystemClock, clock_for
from shared.settings import ServiceSettings


def test_reads_the_file_follows_every_change_and_falls_back_when_it_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    clock, writer = DevClock(path), DevClockFile(path)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
    start = datetime(2024, 12, 1, 9, 30, tzinfo=UTC)
    for minutes in range(50):  # writes faster than mtimes tick are still seen
        writer.set(start + timedelta(minutes=minutes))
        assert clock.now() == start + timedelta(minutes=minutes)
    writer.clear()
    assert clock.now().year >= 2026


def test_a_naive_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aware"):
        DevClockFile(tmp_path / "clock").set(datetime(2024, 1, 1))


def test_services_use_the_dev_clock_only_when_the_setting_names_a_file(tmp_path: Path) -> None:
    plain = ServiceSettings(service_name="matching", pg_dsn="postgresql://x/y")
    steered = ServiceSettings(service_name="matching", pg_dsn="postgresql://x/y", dev_clock_file=str(tmp_path / "c"))
    assert isinstance(clock_for(plain), SystemClock)
    assert isinstance(clock_for(steered), DevClock)
