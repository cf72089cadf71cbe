"""Erasure reaches every copy: a person with a unique marker in every personal field goes through the whole
flow on the real stack (five services, broker, Postgres, an SMTP server), an export and an as-of snapshot
are taken, the person is erased with ``mentorship privacy erase``; then every table of every database,
every retained record of every topic, a fresh export and every service's log are scanned: no marker is
readable anywhere, also after a full replay, and the dashboard's figures are what they were.

The scan's counts are printed (``-s`` shows them): places scanned, rows, records, markers found.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pyarrow.parquet as pq
import pytest
from aiokafka import TopicPartition
from aiosmtpd.controller import Controller

from mentorship.stack import RunningService, start_services
from services.relationships.domain.survey import survey_id_for
from shared.auth import Role
from shared.bus import PUBLISHING_SERVICES, new_admin, new_consumer, topic_for
from tests.e2e.cli import WIDE_TERMINAL, mentorship, plain
from tests.faults.workload import bearer, profile
from tests.helpers import eventually
from tests.integration.notifications.receivers import Mailbox, free_port

pytestmark = pytest.mark.e2e

NAMES = ("profiles", "matching", "relationships", "notifications", "analytics")
RUN = uuid.uuid4().hex[:10]
MARKERS = {
    field: f"zq{field}{RUN}"
    for field in (
        "name",
        "newname",
        "email",
        "bio",
        "newbio",
        "reqbio",
        "motivation",
        "declined",
        "goal",
        "measure",
        "milestone",
        "note",
        "comment",
    )
}
SEALED_BY_RELATIONSHIPS = {"note", "comment"}
"""Encrypted at rest by relationships (never plain in a table): seen through its API, by the mentor."""
REPLACED = {"name", "bio"}
"""Replaced by the person's edit: their first values live on only sealed, in event stores and topics."""
PERSON = f"priv-mentee-{RUN}"
MENTOR = f"priv-mentor-{RUN}"
DIRECTOR = "priv-director"
ADMIN = bearer(DIRECTOR, Role.admin)
AS_PERSON = bearer(PERSON, Role.mentee)
AS_MENTOR = bearer(MENTOR, Role.mentor)


@dataclass
class Scan:
    """Where markers were looked for and found."""

    places: int = 0
    rows: int = 0
    records: int = 0
    files: int = 0
    found: Counter[tuple[str, str]] = field(default_factory=Counter)  # (place, marker field) → hits
    per_topic: Counter[str] = field(default_factory=Counter)  # records read of each topic

    def look(self, place: str, text: str) -> None:
        lowered = text.lower()
        for name, marker in MARKERS.items():
            if marker in lowered:
                self.found[place, name] += 1

    def line(self, label: str) -> str:
        return (
            f"{label}: {self.places} places scanned, {self.rows:,} rows, {self.records:,} topic records, "
            f"{self.files} files; markers found: {sum(self.found.values())}"
        )


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def stack(postgres, broker, mailbox, tmp_path_factory):
    """The five services, started together: the stack tells each consumer where its key sources listen (matching
    opens profiles' fields, notifications profiles' and matching's; the rest, analytics included, see
    placeholders), and a consumer asks for keys only when a record needs them."""
    _, smtp_port = mailbox
    log_dir = Path(tmp_path_factory.mktemp("privacy"))
    own = {
        "notifications": {
            "MENTORSHIP_NOTIFICATIONS_SMTP_PORT": str(smtp_port),
            "MENTORSHIP_NOTIFICATIONS_DIRECTOR_EMAILS": json.dumps(["director@example.edu"]),
        },
        "analytics": {"MENTORSHIP_ANALYTICS_MIN_CELL": "1"},
    }
    with start_services(
        postgres,
        broker.bootstrap,
        log_dir,
        names=NAMES,
        database_prefix=f"priv_{RUN}",
        extra_env={"MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS": "2000"},
        service_env_overrides=own,
    ) as running:
        yield running


def cli(stack: dict[str, RunningService], *args: str, timeout: float = 180):
    urls = [a for name, s in stack.items() for a in ("--service-url", f"{name}={s.url}")]
    env = {**WIDE_TERMINAL, "MENTORSHIP_DEV_MODE": "1"}
    result = mentorship("privacy", *args, *urls, timeout=timeout, env=env)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


async def ok(response: httpx.Response, *codes: int) -> dict:
    assert response.status_code in (codes or (200, 201)), f"{response.request.url}: {response.text}"
    return response.json() if response.content else {}


async def whole_flow(stack: dict[str, RunningService], box: Mailbox) -> str:
    """The person registers, edits, asks twice (declined once), is matched, agrees, meets, closes, answers."""
    u = {name: s.url for name, s in stack.items()}
    m = MARKERS
    async with httpx.AsyncClient(timeout=20) as c:
        await ok(
            await c.post(
                f"{u['profiles']}/mentors",
                headers=ADMIN,
                json={
                    "participant_id": MENTOR,
                    "name": "Mentor",
                    "email": f"mentor-{RUN}@example.edu",
                    "capacity": 2,
                    "profile": profile(1, "mentor"),
                },
            )
        )
        await ok(
            await c.post(
                f"{u['profiles']}/mentees",
                headers=ADMIN,
                json={
                    "participant_id": PERSON,
                    "name": f"Dr {m['name']}",
                    "email": f"{m['email']}@example.edu",
                    "profile": {**profile(2, "mentee"), "biography": f"I am {m['bio']}."},
                },
            )
        )
        await ok(
            await c.patch(
                f"{u['profiles']}/participants/{PERSON}/profile",
                headers=AS_PERSON,
                json={"name": f"Dr {m['newname']}", "profile": {"biography": f"Now {m['newbio']}."}},
            )
        )
        ask = {
            "biography": f"Asking as {m['reqbio']}.",
            "motivation": f"Because {m['motivation']}.",
            "ranked_mentor_ids": [MENTOR],
        }

        async def asked() -> bool:
            return (await c.post(f"{u['matching']}/requests", headers=AS_PERSON, json=ask)).status_code == 201

        await eventually(asked, timeout=60, interval=0.3)
        [first] = (await ok(await c.get(f"{u['matching']}/requests", headers=AS_PERSON)))["items"]
        await ok(
            await c.post(
                f"{u['matching']}/requests/{first['request_id']}/review",
                headers=ADMIN,
                json={"approved": False, "decline_reason": f"Declined: {m['declined']}."},
            )
        )
        await eventually(asked, timeout=60, interval=0.3)
        items = (await ok(await c.get(f"{u['matching']}/requests", headers=AS_PERSON)))["items"]
        [second] = [r for r in items if r["request_id"] != first["request_id"]]
        rid = second["request_id"]
        await ok(await c.post(f"{u['matching']}/requests/{rid}/review", headers=ADMIN, json={"approved": True}))

        async def answered() -> bool:
            reply = await c.post(f"{u['matching']}/requests/{rid}/response", headers=AS_MENTOR, json={"accepted": True})
            return reply.status_code == 200

        await eventually(answered, timeout=60, interval=0.3)

        async def relationship() -> bool:
            return bool((await c.get(f"{u['relationships']}/relationships", headers=AS_PERSON)).json()["items"])

        await eventually(relationship, timeout=60, interval=0.3)
        rel = (await c.get(f"{u['relationships']}/relationships", headers=AS_PERSON)).json()["items"][0][
            "relationship_id"
        ]
        r = f"{u['relationships']}/relationships/{rel}"
        due = (date.today() + timedelta(days=180)).isoformat()
        terms = {
            "cadence_weeks_min": 6,
            "cadence_weeks_max": 8,
            "format": "video",
            "goals": [{"goal_id": "g1", "text": f"Goal {m['goal']}", "measure": f"By {m['measure']}", "due_on": due}],
            "development_plan": [{"title": f"Step {m['milestone']}", "due_on": due}],
        }
        revision = (await ok(await c.put(f"{r}/agreement", headers=AS_MENTOR, json=terms)))["revision"]
        signature = {"revision": revision, "confidentiality_accepted": True, "no_fault_termination_acknowledged": True}
        for who in (AS_PERSON, AS_MENTOR):
            await ok(await c.post(f"{r}/agreement/signatures", headers=who, json=signature))
        meeting = {
            "held_on": date.today().isoformat(),
            "duration_minutes": 45,
            "format": "video",
            "topic_tags": ["goals"],
            "notes": f"Notes {m['note']}",
        }
        await ok(await c.post(f"{r}/meetings", headers=AS_PERSON, json=meeting))
        await ok(await c.post(f"{r}/closure", headers=AS_PERSON, json={"reason": "no_fault_mentee"}))
        # the closing survey, with a comment in the person's own words (a text answer, sealed for them)
        shown = await ok(await c.get(r, headers=AS_PERSON))
        [closure] = [x for x in shown["open_surveys"] if x["kind"] == "closure"]
        answers = {"satisfaction": 4, "goals": 4, "recommend": "yes", "comment": f"Said {m['comment']}"}
        responses = f"{u['relationships']}/surveys/{closure['survey_id']}/responses"
        await ok(await c.post(responses, headers=AS_PERSON, json={"answers": answers}))

        # Notification content: the mentor was sent the request's biography, the person their decline reason.
        await eventually(lambda: len(box.to(f"{m['email']}@example.edu")) >= 1, timeout=60)
        await eventually(lambda: any(m["reqbio"] in Mailbox.text(x) for x in box.messages), timeout=60)

        async def projected() -> bool:
            timeline = await c.get(f"{u['analytics']}/timelines/relationships/{rel}", headers=ADMIN)
            return timeline.status_code == 200 and "SurveyAnswered" in timeline.text

        await eventually(projected, timeout=60, interval=0.3)
    return r


async def scan_databases(scan: Scan, postgres, stack: dict[str, RunningService]) -> None:
    """Every table of every schema of every service's database: each row as text, bytea also as bytes."""
    for service in stack.values():
        conn = await asyncpg.connect(postgres.dsn_for(service.database))
        try:
            tables = await conn.fetch(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            for t in tables:
                name = f'"{t["table_schema"]}"."{t["table_name"]}"'
                blobs = await conn.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = $1 AND table_name = $2 AND data_type = 'bytea'",
                    t["table_schema"],
                    t["table_name"],
                )
                escaped = "".join(f", encode(t.\"{b['column_name']}\", 'escape')" for b in blobs)
                scan.places += 1
                async with conn.transaction():
                    async for row in conn.cursor(f"SELECT t::text{escaped} FROM {name} t"):
                        scan.rows += 1
                        scan.look(f"{service.name} {t['table_schema']}.{t['table_name']}", " ".join(map(str, row)))
        finally:
            await conn.close()


async def scan_topics(scan: Scan, broker, stack: dict[str, RunningService], postgres) -> None:
    """The raw bytes (key, value, headers) of every retained record of every topic, from the beginning.

    Every partition of every topic is read at once up to its end offset and then until two fetches in a row bring
    nothing (the development broker's end offsets can lag), and each service's topic must have yielded at least as
    many records as its event store has published: a scan that missed records fails instead of finding nothing."""
    admin = new_admin(broker.bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics() if not t.startswith("__"))
        described = {t["topic"]: [p["partition"] for p in t["partitions"]] for t in await admin.describe_topics(names)}
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p) for topic in names for p in described.get(topic, ())]
    assert {tp.topic for tp in partitions} == set(names), f"topics without described partitions: {described}"
    scan.places += len(names)
    consumer = new_consumer(broker.bootstrap, group_id=None, enable_auto_commit=False, request_timeout_ms=30_000)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        empty = tries = 0
        while empty < 2 or any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            tries += 1
            assert tries < 600, f"the topics were not read to their end offsets {ends}"
            batches = await consumer.getmany(timeout_ms=500)
            empty = 0 if batches else empty + 1
            for tp, records in batches.items():
                for record in records:
                    scan.records += 1
                    scan.per_topic[tp.topic] += 1
                    raw = (record.key or b"") + (record.value or b"")
                    raw += b"".join(k.encode() + (v or b"") for k, v in record.headers)
                    scan.look(f"topic {tp.topic}", raw.decode("utf-8", errors="replace"))
    finally:
        await consumer.stop()
    for service in (s for s in stack.values() if s.name in PUBLISHING_SERVICES):
        conn = await asyncpg.connect(postgres.dsn_for(service.database))
        try:
            published = await conn.fetchval("SELECT (SELECT count(*) FROM events) - (SELECT count(*) FROM outbox)")
        finally:
            await conn.close()
        topic = topic_for(service.name)
        read = scan.per_topic[topic]
        assert read >= published, f"{topic}: {read} records read, {published} published"


def scan_files(scan: Scan, label: str, paths: list[Path]) -> None:
    """Files as bytes; Parquet files also read (their pages may be compressed) and every value turned to text."""
    for path in paths:
        scan.places += 1
        scan.files += 1
        scan.look(f"{label} {path.name}", path.read_bytes().decode("utf-8", errors="replace"))
        if path.suffix == ".parquet":
            rows = pq.read_table(path).to_pylist()
            scan.rows += len(rows)
            scan.look(f"{label} {path.name}", json.dumps(rows, default=str))


async def read_confidential_texts(scan: Scan, relationship: str) -> None:
    """The notes and the earlier survey comments as the other party reads them, and the person's own text answers
    to the closing survey as they read them (relationships keeps them encrypted; once erased the person's token is
    refused, 410, and nothing of theirs is read)."""
    async with httpx.AsyncClient(timeout=20) as c:
        for path in ("notes", "feedback/comments"):
            scan.places += 1
            answer = await c.get(f"{relationship}/{path}", headers=AS_MENTOR)
            assert answer.status_code == 200, answer.text
            scan.rows += len(answer.json())
            scan.look(f"relationships API /{path}", answer.text)
        base, rid = relationship.rsplit("/relationships/", 1)
        texts = f"{base}/surveys/{survey_id_for('closure', 'closure', rid)}/responses/{PERSON}/texts"
        scan.places += 1
        answer = await c.get(texts, headers=AS_PERSON)
        assert answer.status_code in (200, 410), answer.text
        if answer.status_code == 200:
            scan.rows += len(answer.json())
            scan.look("relationships API /surveys/.../texts", answer.text)


def export(broker, out: Path) -> list[Path]:
    result = mentorship(
        "export", str(out), "--bootstrap", broker.bootstrap, "--no-progress", env=WIDE_TERMINAL, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [p for p in out.rglob("*") if p.is_file()]


def figures(stack: dict[str, RunningService]) -> dict:
    answer = httpx.get(f"{stack['analytics'].url}/dashboard.json", headers=ADMIN, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def replay(stack: dict[str, RunningService], *args: str) -> None:
    result = mentorship("replay", "--url", stack["analytics"].url, "--no-wait", *args, env=WIDE_TERMINAL)
    assert result.returncode == 0, result.stdout + result.stderr
    generation = int(result.stdout.split("generation ")[1].split()[0])

    def ended() -> bool:
        state = httpx.get(f"{stack['analytics'].url}/replays/{generation}", headers=ADMIN, timeout=30).json()["state"]
        assert state != "failed"
        return state in ("live", "snapshot")

    return generation, ended


@pytest.mark.timeout(900)  # the whole flow, two exports, a snapshot, an erasure, a replay and two full scans
async def test_erasure_leaves_no_readable_marker_anywhere(stack, mailbox, postgres, broker, tmp_path: Path) -> None:
    box, _ = mailbox
    relationship = await whole_flow(stack, box)

    print("privacy e2e: flow done", flush=True)
    # Before: every marker is somewhere (so the scan can see them), an export and an as-of snapshot hold them.
    before = Scan()
    await scan_databases(before, postgres, stack)
    await scan_topics(before, broker, stack, postgres)
    await read_confidential_texts(before, relationship)
    assert {name for _, name in before.found} >= set(MARKERS) - REPLACED, before.found
    scan_files(before, "export", export(broker, tmp_path / "export-before"))
    _, snapshot_done = replay(stack, "--as-of", datetime.now(UTC).isoformat())
    await eventually(snapshot_done, timeout=120, interval=0.3)
    figures_before = figures(stack)
    report_before = cli(stack, "report", PERSON)
    assert "readable rows" in report_before.stdout, report_before.stdout + report_before.stderr
    assert "nothing readable" not in plain(report_before.stdout), report_before.stdout

    print("privacy e2e: scanned before, export, snapshot", flush=True)
    # Erasure, with every service's receipt (checked at the end, after the scan has been counted and printed).
    erased = cli(stack, "erase", PERSON)
    print(erased.stdout, erased.stderr)

    print("privacy e2e: erased", flush=True)
    # The person's token, not expired, no longer acts anywhere: 410, nothing written.
    async with httpx.AsyncClient(timeout=20) as c:
        rel_db = await asyncpg.connect(postgres.dsn_for(stack["relationships"].database))
        try:
            events = await rel_db.fetchval("SELECT count(*) FROM events")
            meeting = {
                "held_on": date.today().isoformat(),
                "duration_minutes": 30,
                "format": "video",
                "topic_tags": ["goals"],
                "notes": "written after erasure",
            }
            refused = [
                await c.post(f"{relationship}/meetings", headers=AS_PERSON, json=meeting),
                await c.put(
                    f"{stack['notifications'].url}/participants/{PERSON}/preferences",
                    headers=AS_PERSON,
                    json={"channels": ["email"]},
                ),
                await c.post(
                    f"{stack['matching'].url}/requests",
                    headers=AS_PERSON,
                    json={"biography": "again", "motivation": "again", "ranked_mentor_ids": [MENTOR]},
                ),
                await c.patch(
                    f"{stack['profiles'].url}/participants/{PERSON}/profile",
                    headers=AS_PERSON,
                    json={"name": "Back again"},
                ),
            ]
            assert [r.status_code for r in refused] == [410] * 4, [r.text for r in refused]
            assert "was erased" in refused[0].json()["detail"]
            assert await rel_db.fetchval("SELECT count(*) FROM events") == events
            assert await rel_db.fetchval("SELECT count(*) FROM confidential_texts WHERE author_id = $1", PERSON) == 0
        finally:
            await rel_db.close()

    print("privacy e2e: tokens refused", flush=True)
    # A full replay after erasure; the figures are what they were.
    _, replayed = replay(stack)
    await eventually(replayed, timeout=120, interval=0.3)
    figures_after = figures(stack)

    print("privacy e2e: replayed", flush=True)
    after = Scan()
    await scan_databases(after, postgres, stack)
    await scan_topics(after, broker, stack, postgres)
    scan_files(after, "fresh export", export(broker, tmp_path / "export-after"))
    scan_files(after, "log", [s.process.log_path for s in stack.values()])
    await read_confidential_texts(after, relationship)
    print("\n" + before.line("before erasure") + "\n" + after.line("after erasure"))
    for (place, name), hits in sorted(after.found.items()):
        print(f"  readable after erasure: {name} in {place} ({hits})")
    report = cli(stack, "report", PERSON)
    print(report.stdout, report.stderr)

    assert not after.found, sorted(after.found)
    assert figures_after == figures_before
    assert report_before.returncode == 0, report_before.stdout + report_before.stderr
    assert erased.returncode == 0, erased.stdout + erased.stderr
    for name in NAMES:
        assert f"{name}: erasure handled" in plain(erased.stdout), erased.stdout
    assert "nothing of theirs is readable" in plain(erased.stdout)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "nothing readable" in plain(report.stdout), report.stdout
