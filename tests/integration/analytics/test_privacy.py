"""Privacy in analytics, on real Postgres and a real broker: nothing the catalog marks personal is kept, a
relationship's timeline is read by its parties only, as-of snapshots are the director's (capped, expiring),
and an erasure reaches the live generation, every snapshot and a replay, leaving every figure as it was."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
import httpx
import pytest

from services.analytics.bootstrap import build_app
from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import create_generation, ensure_live
from services.analytics.projecting.projector import Projector
from services.analytics.projecting.snapshots import SnapshotPolicy, drop_expired
from services.analytics.settings import AnalyticsSettings
from shared.auth import Role, mint_token
from shared.bus import ensure_topics
from shared.db import migrate, migrations_from_package
from shared.events.matching import RequestRanked, RequestReviewed
from shared.events.notifications import NotificationFailed, NotificationSent
from shared.events.profiles import (
    FieldChange,
    MenteeRegistered,
    MentorRegistered,
    ParticipantErased,
    ProfileFields,
    ProfileUpdated,
)
from shared.events.relationships import GoalSet, SmartGoal
from shared.settings import DEV_JWT_SECRET, ServiceSettings
from tests.helpers import eventually, send
from tests.integration.analytics.test_timeline_projection import DAY, T0, envelope, scenario

pytestmark = pytest.mark.integration

MARK = "zq7-personal"
"""In every personal field the history fills (the scenario's request adds "PRIVATE BIO")."""
CUT = T0 + 20 * DAY


def auth(subject: str, *roles: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, list(roles))}"}


DIRECTOR, ANALYST = auth("dir", Role.admin), auth("an-1", Role.analyst)
MENTEE, CHOSEN, DECLINED = auth("m1", Role.mentee), auth("b", Role.mentor), auth("a", Role.mentor)


def history() -> list[tuple[str, object]]:
    """The scenario (m1 asks a, then b; a declines, b accepts; rel-1) with registrations, a profile change, an
    earlier request declined with a reason, notifications (one failed) and a goal, all with personal text."""
    profile = ProfileFields(
        biography=f"{MARK} bio", specialty="cardiology", career_stage="mid_career", department="Medicine"
    )

    def registered(cls, pid: str, **extra):
        return cls(participant_id=pid, name=f"{MARK} {pid}", email=f"{pid}@{MARK}.edu", profile=profile, **extra)

    change = FieldChange(field="profile.biography", old=f"{MARK} bio", new=f"{MARK} new bio")
    goal = SmartGoal(goal_id="g1", text=f"{MARK} goal", measure=f"{MARK} measure", due_on=date(2026, 6, 1))
    notified = dict(cause_event_id="c1", recipient_id="m1", channel="email")
    events = [
        ("profiles", registered(MenteeRegistered, "m1"), "m1", T0 - 5 * DAY, 1),
        ("profiles", registered(MentorRegistered, "a", capacity=2), "a", T0 - 5 * DAY, 1),
        ("profiles", registered(MentorRegistered, "b", capacity=2), "b", T0 - 5 * DAY, 1),
        ("profiles", ProfileUpdated(participant_id="m1", changes=[change]), "m1", T0 - 4 * DAY, 2),
        (
            "matching",
            RequestRanked(request_id="req-0", mentee_id="m1", biography=MARK, motivation=MARK, ranked_mentor_ids=["a"]),
            "req-0",
            T0 - 3 * DAY,
            1,
        ),
        (
            "matching",
            RequestReviewed(request_id="req-0", reviewer_id="dir", approved=False, decline_reason=f"{MARK} no"),
            "req-0",
            T0 - 2 * DAY,
            2,
        ),
        ("notifications", NotificationSent(notification_id="n1", template="t", **notified), "n1", T0 - 2 * DAY, 1),
        (
            "notifications",
            NotificationFailed(notification_id="n2", template="t", error=f"{MARK}@mx", attempts=3, **notified),
            "n2",
            T0 - DAY,
            1,
        ),
        ("relationships", GoalSet(relationship_id="rel-1", mentee_id="m1", goal=goal), "rel-1", T0 + 16 * DAY, 9),
    ]
    return [(owner, envelope(e, subject, at, owner, seq)) for owner, e, subject, at, seq in events] + scenario()


@pytest.fixture
async def topics(broker, topic_name) -> dict[str, str]:
    names = {owner: f"{topic_name}.{owner}" for owner in ("profiles", "matching", "relationships", "notifications")}
    await ensure_topics(broker.bootstrap, list(names.values()), partitions=2)
    await send(broker.bootstrap, ((names[owner], env) for owner, env in history()))
    return names


@pytest.fixture
async def api(pool: asyncpg.Pool, fresh_dsn: str, broker, topics):
    """The analytics app on the test's pool and topics, one snapshot at most; its live projection is driven
    by the test (``project``), not by the app's lifespan."""
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    settings = ServiceSettings(service_name="analytics", pg_dsn=fresh_dsn, kafka_bootstrap=broker.bootstrap)
    app = build_app(settings, AnalyticsSettings(min_cell=0, max_snapshots=1, snapshot_days=30))
    app.state.runtime.pool = pool
    app.state.container.topics = list(topics.values())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics") as client:
        yield client
    await app.state.container.replays.stop()


async def project(pool, broker, topics, generation: int, **options) -> None:
    """Project the topics into ``generation`` until caught up (the live projector carries erasures over)."""
    projector = Projector(pool, broker.bootstrap, generation, list(topics.values()), **options)
    await projector.run(asyncio.Event(), until_caught_up=True)


async def markers(pool: asyncpg.Pool, schema: str) -> int:
    """Rows of every table of ``schema`` holding any personal text of the history."""
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
    found = 0
    for table in tables:
        found += await pool.fetchval(
            f"SELECT count(*) FROM {schema}.{table['tablename']} row WHERE row::text ~ $1", f"{MARK}|PRIVATE BIO"
        )
    return found


async def test_nothing_personal_is_kept_and_a_relationship_is_read_by_its_parties(api, pool, broker, topics) -> None:
    live = await ensure_live(pool)
    await project(pool, broker, topics, live, erase_elsewhere=True)
    assert await markers(pool, schema_name(live)) == 0

    mine = (await api.get("/timelines/participants/m1", headers=MENTEE)).json()["entries"]
    by_type = {entry["event_type"]: entry["summary"] for entry in mine}
    assert by_type["ProfileUpdated"]["changes"] == [{"field": "profile.biography"}]  # what changed, not the text
    assert by_type["NotificationFailed"] == {k: v for k, v in by_type["NotificationFailed"].items() if k != "error"}
    assert "error" not in by_type["NotificationFailed"] and "decline_reason" not in by_type["RequestReviewed"]

    everything = (await api.get("/timelines/relationships/rel-1", headers=DIRECTOR)).json()
    assert everything["participants"] == ["b", "m1"]
    assert len(everything["entries"]) == 12  # the scenario's request, match and relationship, and the goal
    assert (await api.get("/timelines/relationships/rel-1", headers=MENTEE)).json() == everything
    # The mentor asked first, who declined: named in the request, no party of the relationship formed later.
    response = await api.get("/timelines/relationships/rel-1", headers=DECLINED)
    assert (response.status_code, response.json()) == (404, {"detail": "no relationship rel-1"})
    assert (await api.get("/timelines/participants/m1", headers=DECLINED)).status_code == 403
    # The chosen mentor reads the relationship, the match, and of the request what names nobody but m1 and them.
    chosen = (await api.get("/timelines/relationships/rel-1", headers=CHOSEN)).json()
    hidden = [e["event_id"] for e in everything["entries"] if e["summary"].get("mentor_id") == "a"]
    assert len(hidden) == 2  # forwarded to a, a's answer
    assert [e["event_id"] for e in chosen["entries"]] == [
        e["event_id"] for e in everything["entries"] if e["event_id"] not in hidden
    ]
    # Analysts get aggregates only.
    for path in ("/timelines/relationships/rel-1", "/timelines/participants/m1"):
        assert (await api.get(path, headers=ANALYST)).status_code == 403
    assert (await api.get("/dashboard.json", headers=ANALYST)).status_code == 200


async def test_snapshots_are_the_directors_capped_expiring_and_erased_like_the_rest(api, pool, broker, topics) -> None:
    live = await ensure_live(pool)
    await project(pool, broker, topics, live, erase_elsewhere=True)
    figures = (await api.get("/dashboard.json", headers=DIRECTOR)).json()
    assert figures["requests"]["submitted"] == 2

    refused = await api.post("/replays", json={"as_of": CUT.isoformat()}, headers=ANALYST)
    assert (refused.status_code, refused.json()) == (403, {"detail": "as-of snapshots are for directors (admin) only"})
    snapshot = await _snapshot(api)
    over = await api.post("/replays", json={"as_of": CUT.isoformat()}, headers=DIRECTOR)
    assert over.status_code == 409
    assert over.json()["detail"].startswith("at most 1 as-of snapshots are kept (MENTORSHIP_ANALYTICS_MAX_SNAPSHOTS)")
    then = (await api.get("/dashboard.json", params={"generation": snapshot}, headers=DIRECTOR)).json()
    assert (await api.get("/dashboard.json", params={"generation": snapshot}, headers=ANALYST)).status_code == 403
    assert await _own_rows(pool, snapshot) > 0

    erased = envelope(ParticipantErased(participant_id="m1"), "m1", T0 + 200 * DAY, "profiles", 3)
    await send(broker.bootstrap, [(topics["profiles"], erased)])
    await project(pool, broker, topics, live, erase_elsewhere=True)
    for generation in (live, snapshot):  # the snapshot too, though the erasure is after its cut
        assert await _own_rows(pool, generation) == 0
        held = await pool.fetchval(
            f"SELECT array_agg(participant_id) FROM {schema_name(generation)}.erased_participants"
        )
        assert held == ["m1"]
    assert (await api.get("/dashboard.json", headers=DIRECTOR)).json() == figures  # aggregates unchanged
    assert (await api.get("/dashboard.json", params={"generation": snapshot}, headers=DIRECTOR)).json() == then
    assert (await api.get("/timelines/relationships/rel-1", headers=MENTEE)).status_code == 404  # no party now
    assert (await api.get("/timelines/relationships/rel-1", headers=CHOSEN)).status_code == 200  # the mentor's own

    # A replay after the erasure, in batches of three (the erasure meets the person's rows in any order):
    # the same rows as the live generation.
    async with pool.acquire() as conn:
        replayed = await create_generation(conn)
    await project(pool, broker, topics, replayed, batch_size=3)
    assert await _timeline_rows(pool, replayed) == await _timeline_rows(pool, live)

    # Expired: no longer served, then dropped; room for a new snapshot, erased as well though built after.
    await pool.execute(
        "UPDATE projection_generations SET created_at = now() - interval '31 days' WHERE generation = $1", snapshot
    )
    response = await api.get("/dashboard.json", params={"generation": snapshot}, headers=DIRECTOR)
    assert (response.status_code, response.json()) == (
        404,
        {"detail": f"generation {snapshot} has expired (snapshots are kept 30 days)"},
    )
    assert await drop_expired(pool, SnapshotPolicy(limit=1, days=30)) == [snapshot]
    assert not await pool.fetchval("SELECT to_regnamespace($1) IS NOT NULL", schema_name(snapshot))
    # An as-of build after the erasure erases too, though the erasure is after its cut.
    async with pool.acquire() as conn:
        again = await create_generation(conn, as_of=CUT)
    await project(pool, broker, topics, again, as_of=CUT)
    assert await _own_rows(pool, again) == 0 and await markers(pool, schema_name(again)) == 0
    assert await pool.fetchval(f"SELECT count(*) FROM {schema_name(again)}.timeline_events") > 0


async def _snapshot(api: httpx.AsyncClient) -> int:
    started = await api.post("/replays", json={"as_of": CUT.isoformat()}, headers=DIRECTOR)
    assert started.status_code == 202, started.text
    generation = started.json()["generation"]

    async def finished() -> bool:
        state = (await api.get(f"/replays/{generation}", headers=DIRECTOR)).json()["state"]
        assert state in ("running", "snapshot")
        return state == "snapshot"

    await eventually(finished, timeout=60)
    return generation


async def _own_rows(pool: asyncpg.Pool, generation: int) -> int:
    """m1's own rows: their profile's events and notifications, and their access to streams."""
    schema = schema_name(generation)
    return await pool.fetchval(
        f"SELECT (SELECT count(*) FROM {schema}.timeline_events"
        "         WHERE (stream_kind = 'participant' AND stream_id = 'm1') OR stream_kind = 'notification')"
        f"     + (SELECT count(*) FROM {schema}.stream_parties WHERE participant_id = 'm1')"
    )


async def _timeline_rows(pool: asyncpg.Pool, generation: int) -> tuple[list, list, list]:
    schema = schema_name(generation)
    return (
        [tuple(r) for r in await pool.fetch(f"SELECT event_id, summary FROM {schema}.timeline_events ORDER BY 1")],
        [tuple(r) for r in await pool.fetch(f"SELECT * FROM {schema}.stream_parties ORDER BY 1, 2, 3")],
        [tuple(r) for r in await pool.fetch(f"SELECT * FROM {schema}.erased_participants ORDER BY 1")],
    )
