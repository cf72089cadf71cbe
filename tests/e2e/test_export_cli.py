"""``mentorship export`` as a separate process: a real export, and bad input answered without a traceback."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.bus import ensure_topics, new_producer
from shared.envelope import Envelope
from shared.events.matching import RequestRanked
from tests.e2e.cli import WIDE_TERMINAL, mentorship, plain

pytestmark = pytest.mark.e2e

UNREACHABLE = "127.0.0.1:1"


def mentorship_export(*args: str) -> subprocess.CompletedProcess[str]:
    return mentorship("export", *args, "--no-progress", env=WIDE_TERMINAL)


def refused(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for word in words:
        assert word in plain(result.stderr), result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--type", "MentorTeleported"], ["--type", "MentorTeleported: not an event type of the catalog"]),
        (["--since", "last tuesday"], ["--since", "not an ISO 8601 date or timestamp"]),
        (["--since", "2026-03-01", "--until", "2026-02-01"], ["--since must be before --until"]),
    ],
)
def test_bad_options_are_named(tmp_path: Path, args: list[str], words: list[str]) -> None:
    out = tmp_path / "history"
    refused(mentorship_export(str(out), "--bootstrap", UNREACHABLE, *args), 2, *words)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_broker_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    refused(
        mentorship_export(str(tmp_path / "history"), "--bootstrap", UNREACHABLE),
        1,
        f"cannot reach the broker at {UNREACHABLE}",
    )
    assert list(tmp_path.iterdir()) == []


async def test_export_then_refuse_a_non_empty_out_unless_forced(broker, topic_name, tmp_path: Path) -> None:
    await ensure_topics(broker.bootstrap, [topic_name], partitions=1)
    producer = new_producer(broker.bootstrap)
    await producer.start()
    try:
        for n in range(3):
            event = RequestRanked(
                request_id=f"req-{n}", mentee_id=f"m{n}", biography="b", motivation="m", ranked_mentor_ids=["a"]
            )
            envelope = Envelope(
                id=uuid.uuid4(),
                source="/services/matching",
                type="RequestRanked",
                time=datetime(2026, 3, 1, tzinfo=UTC),
                subject=f"req-{n}",
                correlationid=uuid.uuid4(),
                sequence=1,
                schemaversion=1,
                data=event.model_dump(mode="json"),
            )
            await producer.send_and_wait(topic_name, envelope.to_bytes(), key=envelope.subject.encode())
    finally:
        await producer.stop()
    out = tmp_path / "history"
    common = ["--bootstrap", broker.bootstrap, "--topic", topic_name, "--topic", f"{topic_name}-absent"]

    first = mentorship_export(str(out), *common)
    assert first.returncode == 0, first.stderr
    assert "3 events of 1 types written" in plain(first.stdout)
    assert "random for this export" in plain(first.stdout)
    assert f"topics not on the broker: {topic_name}-absent" in plain(first.stderr)
    assert json.loads((out / "_manifest.json").read_text())["by_type"]["RequestRanked"]["months"] == ["2026-03"]

    refused(mentorship_export(str(out), *common), 2, "is not empty", "--force")
    again = mentorship_export(str(out), *common, "--force", "--type", "MatchApproved")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "_manifest.json").read_text())["events_written"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history"]  # no staging or retired directories left
