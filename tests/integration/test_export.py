"""The export on a real broker: the DuckDB figure from the Parquet files equals the dashboard's.

A scripted program goes onto the topics; the analytics projector builds the
dashboard from them in-process; ``export_history`` writes the same topics as
Parquet; the README's DuckDB query over the export must give the dashboard's
match rate and matches by choice rank.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow.parquet as pq
import pytest

from mentorship.export import MANIFEST, ExportRequest, export_history
from mentorship.export.history import HistoryWriter
from mentorship.export.writer import NO_PROGRAM
from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import ensure_live
from services.analytics.projecting.projector import Projector
from services.analytics.querying.dashboard import Filters, program_figures
from shared.bus import ensure_topics, new_producer
from shared.db import migrate, migrations_from_package
from shared.envelope import Envelope
from shared.events import Event, matching
from shared.events.profiles import Demographics, MenteeRegistered, MentorRegistered, ProfileFields

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)  # the program runs into February: two month partitions
DAY = timedelta(days=1)

# The query in the README, verbatim; it runs in the directory that holds the export ``history/``.
DASHBOARD_MATCH_RATE_SQL = """
WITH events AS (
    SELECT * FROM read_parquet('history/**/*.parquet', hive_partitioning = true, union_by_name = true)
),
requests AS (SELECT DISTINCT request_id FROM events WHERE type = 'RequestRanked'),
matches AS (
    SELECT DISTINCT request_id, choice_rank FROM events
    WHERE type = 'MatchApproved' AND request_id IS NOT NULL
)
SELECT count(*)                                  AS submitted,
       count(m.request_id)                       AS matched,
       round(count(m.request_id) / count(*), 4)  AS match_rate,
       count(*) FILTER (WHERE m.choice_rank = 1) AS matched_at_choice_1,
       count(*) FILTER (WHERE m.choice_rank = 2) AS matched_at_choice_2,
       count(*) FILTER (WHERE m.choice_rank = 3) AS matched_at_choice_3
FROM requests r LEFT JOIN matches m USING (request_id);
"""


class Script:
    """Envelopes in publishing order, each stream numbered from 1."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Envelope]] = []
        self._sequence: dict[str, int] = {}

    def add(self, owner: str, subject: str, event: Event, at: datetime) -> None:
        self._sequence[subject] = self._sequence.get(subject, 0) + 1
        self.events.append(
            (
                owner,
                Envelope(
                    id=uuid.uuid4(),
                    source=f"/services/{owner}",
                    type=event.type_name(),
                    time=at,
                    subject=subject,
                    correlationid=uuid.uuid4(),
                    sequence=self._sequence[subject],
                    schemaversion=event.schema_version,
                    data=event.model_dump(mode="json"),
                ),
            )
        )


def person(cls: type, pid: str, **extra: object) -> MentorRegistered | MenteeRegistered:
    profile = ProfileFields(
        biography=f"Biography of SECRET {pid}", specialty="cardiology", career_stage="senior", department="Cardiology"
    )
    return cls(
        participant_id=pid,
        name=f"SECRET Name {pid}",
        email=f"secret.{pid}@example.edu",
        profile=profile,
        demographics=Demographics(consented=True, gender="SECRET gender"),
        **extra,
    )


def program() -> Script:
    """4 mentors, 8 mentees; 7 requests: matched at choice 1 (twice), 2 and 3, one unmatched after two
    declines, one declined by the director, one withdrawn; one admin match without a request."""
    script = Script()
    for mentor in ("a", "b", "c", "d"):
        script.add("profiles", mentor, person(MentorRegistered, mentor, capacity=2), T0 - 10 * DAY)
    for i in range(1, 9):
        script.add("profiles", f"m{i}", person(MenteeRegistered, f"m{i}"), T0 - 9 * DAY)

    def ask(n: int, mentee: str, ranked: list[str], at: datetime) -> str:
        request = f"req-{n}"
        script.add(
            "matching",
            request,
            matching.RequestRanked(
                request_id=request,
                mentee_id=mentee,
                ranked_mentor_ids=ranked,
                biography="SECRET biography",
                motivation="SECRET motivation",
            ),
            at,
        )
        return request

    def forward(request: str, mentee: str, mentor: str, rank: int, at: datetime, answer: bool | None) -> None:
        script.add(
            "matching",
            request,
            matching.RequestForwarded(
                request_id=request, mentee_id=mentee, mentor_id=mentor, choice_rank=rank, respond_by=at + 7 * DAY
            ),
            at,
        )
        if answer is None:
            script.add(
                "matching",
                request,
                matching.RequestExpired(
                    request_id=request, mentor_id=mentor, choice_rank=rank, respond_by=at + 7 * DAY
                ),
                at + 7 * DAY,
            )
        else:
            script.add(
                "matching",
                request,
                matching.MentorResponded(
                    request_id=request,
                    mentor_id=mentor,
                    choice_rank=rank,
                    accepted=answer,
                    reason=None if answer else "SECRET why",
                ),
                at + DAY,
            )

    def approve(request: str, at: datetime) -> None:
        script.add(
            "matching", request, matching.RequestReviewed(request_id=request, reviewer_id="director", approved=True), at
        )

    def match(n: int, request: str | None, mentee: str, mentor: str, rank: int | None, at: datetime) -> None:
        mode = "director" if request else "admin"
        script.add(
            "matching",
            f"match-{n}",
            matching.MatchApproved(
                match_id=f"match-{n}",
                mentee_id=mentee,
                mentor_id=mentor,
                mode=mode,
                request_id=request,
                choice_rank=rank,
            ),
            at,
        )

    plans = [  # (mentee, ranked mentors, answers in turn: True accept, False decline, None deadline missed)
        ("m1", ["a", "b", "c"], [True]),
        ("m2", ["a", "b"], [False, True]),
        ("m3", ["b", "c", "d"], [False, None, True]),
        ("m4", ["c"], [True]),
        ("m5", ["d", "a"], [False, False]),
    ]
    for n, (mentee, ranked, answers) in enumerate(plans, start=1):
        at = T0 + n * DAY
        request = ask(n, mentee, ranked, at)
        approve(request, at + DAY)
        step = at + DAY
        for rank, (mentor, answer) in enumerate(zip(ranked, answers, strict=False), start=1):
            forward(request, mentee, mentor, rank, step, answer)
            step += 8 * DAY
            if answer:
                match(n, request, mentee, mentor, rank, step)
        if not any(answers):
            script.add(
                "matching",
                request,
                matching.RequestUnmatched(request_id=request, mentee_id=mentee, tried_mentor_ids=ranked),
                step,
            )
    declined = ask(6, "m6", ["a"], T0 + 6 * DAY)
    script.add(
        "matching",
        declined,
        matching.RequestReviewed(
            request_id=declined, reviewer_id="director", approved=False, decline_reason="SECRET not a mentoring request"
        ),
        T0 + 7 * DAY,
    )
    withdrawn = ask(7, "m7", ["b"], T0 + 7 * DAY)
    script.add(
        "matching",
        withdrawn,
        matching.RequestWithdrawn(request_id=withdrawn, mentee_id="m7", reason="SECRET moved"),
        T0 + 8 * DAY,
    )
    match(8, None, "m8", "c", None, T0 + 9 * DAY)
    return script


@pytest.fixture
async def published(broker, topic_name):
    topics = {owner: f"{topic_name}.{owner}" for owner in ("profiles", "matching")}
    await ensure_topics(broker.bootstrap, list(topics.values()), partitions=2)
    script = program()
    producer = new_producer(broker.bootstrap)
    await producer.start()
    try:
        for owner, envelope in script.events:
            await producer.send_and_wait(topics[owner], envelope.to_bytes(), key=envelope.subject.encode())
        await producer.send_and_wait(topics["matching"], b"{not an envelope", key=b"x")
        stranger = Envelope(
            id=uuid.uuid4(),
            source="/services/future",
            type="MentorTeleported",
            time=T0,
            subject="a",
            correlationid=uuid.uuid4(),
            sequence=1,
            schemaversion=1,
            data={},
        )
        await producer.send_and_wait(topics["profiles"], stranger.to_bytes(), key=b"a")
    finally:
        await producer.stop()
    return script, list(topics.values())


async def dashboard_requests(pool, bootstrap: str, topics: list[str]) -> dict:
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    generation = await ensure_live(pool)
    await Projector(pool, bootstrap, generation, topics).run(asyncio.Event(), until_caught_up=True)
    async with pool.acquire() as conn:
        figures = await program_figures(conn, schema_name(generation), Filters(), min_cell=1)
    return figures["requests"]


async def test_duckdb_over_the_export_gives_the_dashboard_figures(pool, broker, published, tmp_path, monkeypatch):
    script, topics = published
    dashboard = await dashboard_requests(pool, broker.bootstrap, topics)
    assert (dashboard["submitted"], dashboard["matched"], dashboard["match_rate"]) == (7, 4, 0.5714)

    manifest = await export_history(
        ExportRequest(
            out=tmp_path / "history", bootstrap=broker.bootstrap, topics=tuple(topics), pseudonym_key="test-key"
        )
    )
    monkeypatch.chdir(tmp_path)
    columns = [
        "submitted",
        "matched",
        "match_rate",
        "matched_at_choice_1",
        "matched_at_choice_2",
        "matched_at_choice_3",
    ]
    from_export = dict(zip(columns, duckdb.sql(DASHBOARD_MATCH_RATE_SQL).fetchall()[0], strict=False))

    assert from_export["submitted"] == dashboard["submitted"]
    assert from_export["matched"] == dashboard["matched"]
    assert from_export["match_rate"] == dashboard["match_rate"]
    assert {str(k): from_export[f"matched_at_choice_{k}"] for k in (1, 2, 3)} == dashboard["matched_by_choice_rank"]
    assert dashboard["matched_by_choice_rank"] == {"1": 2, "2": 1, "3": 1}

    published_types: dict[str, int] = {}
    for _, envelope in script.events:
        published_types[envelope.type] = published_types.get(envelope.type, 0) + 1
    assert {name: entry["events"] for name, entry in manifest["by_type"].items()} == published_types
    assert manifest["records_read"] == len(script.events) + 2
    assert manifest["skipped"]["invalid_envelope"] == 1
    assert manifest["skipped"]["unknown_types"] == {"MentorTeleported": 1}
    assert manifest["by_type"]["RequestForwarded"]["months"] == ["2026-01", "2026-02"]
    assert json.loads((tmp_path / "history" / MANIFEST).read_text())["events_written"] == len(script.events)


async def test_the_export_carries_no_personal_data(broker, published, tmp_path) -> None:
    _, topics = published
    out = tmp_path / "history"
    await export_history(ExportRequest(out=out, bootstrap=broker.bootstrap, topics=tuple(topics)))
    text = " ".join(json.dumps(pq.read_table(f).to_pydict(), default=str) for f in out.rglob("*.parquet"))
    assert "MatchApproved" in {p.name.removeprefix("type=") for p in out.iterdir()}
    assert "SECRET" not in text and "secret." not in text
    mentees = pq.read_table(next((out / "type=MenteeRegistered").rglob("*.parquet"))).column("participant_id")
    assert len(set(mentees.to_pylist())) == 8 and not {"m1", "m2"} & set(mentees.to_pylist())
    assert "req-1" in text  # request ids are not personal


def test_the_readme_shows_this_very_query() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"```sql{DASHBOARD_MATCH_RATE_SQL}```" in readme


async def test_the_export_partitions_by_program(broker, published, tmp_path, monkeypatch) -> None:
    """Every request, match and relationship event of version 1 is about the built-in program ``default``, and
    so is every later event of its stream; profiles' events are about no program (the null partition)."""
    script, topics = published
    out = tmp_path / "history"
    manifest = await export_history(ExportRequest(out=out, bootstrap=broker.bootstrap, topics=tuple(topics)))
    assert {p.name for p in (out / "type=RequestForwarded").iterdir()} == {"program=default"}
    assert {p.name for p in (out / "type=MenteeRegistered").iterdir()} == {f"program={NO_PROGRAM}"}
    assert manifest["by_type"]["RequestRanked"]["programs"] == {"default": 7}
    assert manifest["by_type"]["MenteeRegistered"]["programs"] == {}
    monkeypatch.chdir(tmp_path)
    by_program = duckdb.sql(
        "SELECT program, count(*) FROM read_parquet('history/**/*.parquet', hive_partitioning = true,"
        " union_by_name = true) GROUP BY program ORDER BY program NULLS LAST"
    ).fetchall()
    about_people = sum(envelope.source == "/services/profiles" for _, envelope in script.events)
    assert by_program == [("default", len(script.events) - about_people), (None, about_people)]


def test_an_event_is_in_its_payloads_program_or_its_streams(tmp_path) -> None:
    writer = HistoryWriter(tmp_path, ExportRequest(out=tmp_path, bootstrap="unused"))

    def at(type_name: str, subject: str, source: str = "matching") -> Envelope:
        return Envelope(
            id=uuid.uuid4(),
            source=f"/services/{source}",
            type=type_name,
            time=T0,
            subject=subject,
            correlationid=uuid.uuid4(),
            sequence=1,
            schemaversion=2,
            data={},
        )

    assert writer._program_of(at("RequestRanked", "r9"), SimpleNamespace(program_id="faculty")) == "faculty"
    assert writer._program_of(at("RequestReviewed", "r9"), SimpleNamespace()) == "faculty"  # the stream's
    assert writer._program_of(at("RequestRanked", "r8"), SimpleNamespace()) == "default"  # version 1
    assert writer._program_of(at("GoalSet", "rel-9", "relationships"), SimpleNamespace()) is None  # no start seen
    assert writer._program_of(at("MentorRegistered", "p1", "profiles"), SimpleNamespace()) is None
