"""The API over ASGI against real Postgres: which generation is served, who sees a timeline, the min-cell setting."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from services.analytics.bootstrap import build_app
from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import SHAPE, create_generation, make_live
from services.analytics.querying.dashboard import Filters
from services.analytics.querying.reads import Reads
from services.analytics.settings import AnalyticsSettings
from shared.auth import Principal, Role, mint_token
from shared.db import migrate, migrations_from_package
from shared.settings import DEV_JWT_SECRET, ServiceSettings

pytestmark = pytest.mark.integration


def auth(subject: str, *roles: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, list(roles))}"}


ANALYST, DIRECTOR, MENTEE = auth("an-1", Role.analyst), auth("dir-1", Role.admin), auth("m1", Role.mentee)


@pytest.fixture
async def api(pool: asyncpg.Pool, fresh_dsn: str):
    """The analytics app, its runtime given the test's pool (no lifespan: no live projector, no broker)."""
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    app = build_app(ServiceSettings(service_name="analytics", pg_dsn=fresh_dsn), AnalyticsSettings(min_cell=3))
    app.state.runtime.pool = pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics") as client:
        yield client


async def test_the_live_generation_is_served_once_built_and_of_this_versions_shape(api, pool) -> None:
    response = await api.get("/dashboard.json", headers=ANALYST)
    assert (response.status_code, response.json()) == (503, {"detail": "projections are not built yet"})
    async with pool.acquire() as conn:
        live = await create_generation(conn)
        await make_live(conn, live)
    response = await api.get("/dashboard.json", headers=ANALYST)
    assert response.status_code == 200 and response.json()["min_cell"] == 3  # the setting, not the default
    response = await api.get("/dashboard.json", params={"generation": live}, headers=ANALYST)
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "as-of snapshots (generation) are for directors (admin) only"},
    )  # analysts read the live figures only
    response = await api.get("/dashboard.json", params={"generation": live + 7}, headers=DIRECTOR)
    assert response.json() == {"detail": f"generation {live + 7} is not live or a snapshot"}
    assert response.status_code == 404

    await pool.execute("UPDATE projection_generations SET shape = 'older' WHERE generation = $1", live)
    response = await api.get("/dashboard.csv", headers=DIRECTOR)
    rebuilding = f"generation {live} was built by another version of analytics: it is being rebuilt, try again shortly"
    assert (response.status_code, response.json()) == (503, {"detail": rebuilding})
    async with pool.acquire() as conn:
        snapshot = await create_generation(conn)
    await pool.execute(
        "UPDATE projection_generations SET state = 'snapshot', shape = 'older' WHERE generation = $1", snapshot
    )
    response = await api.get("/dashboard", params={"generation": snapshot}, headers=DIRECTOR)
    assert response.status_code == 503
    assert response.json()["detail"].endswith("; replay it again")


async def test_filters_are_checked_at_the_edge(api, pool) -> None:
    response = await api.get("/dashboard.json", params={"start": "2026-02-01", "end": "2026-01-01"}, headers=ANALYST)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["query", "end"], "msg": "end lies before start", "type": "value_error"}
    ]
    assert (await api.get("/dashboard.json", params={"cohort": "2026"}, headers=ANALYST)).status_code == 422
    assert (await api.get("/dashboard.json", headers=MENTEE)).status_code == 403


async def test_a_timeline_is_for_its_participants_and_directors(api, pool) -> None:
    async with pool.acquire() as conn:
        await make_live(conn, await create_generation(conn))
    response = await api.get("/timelines/participants/m2", headers=MENTEE)
    assert (response.status_code, response.json()) == (403, {"detail": "only the participant themself and directors"})
    own = await api.get("/timelines/participants/m1", headers=MENTEE)
    assert (own.status_code, own.json()) == (200, {"participant_id": "m1", "entries": []})
    response = await api.get("/timelines/relationships/rel-x", headers=DIRECTOR)
    assert (response.status_code, response.json()) == (404, {"detail": "no relationship rel-x"})
    live = await pool.fetchval("SELECT generation FROM projection_generations WHERE state = 'live'")
    await pool.execute(
        f"INSERT INTO {schema_name(live)}.timeline_events (event_id, stream_kind, stream_id, event_type, at,"
        " participants, summary) VALUES (gen_random_uuid(), 'relationship', 'rel-1', 'RelationshipStarted', now(),"
        " '{m1,mentor-1,mentor-2}', '{}')"
    )
    await pool.execute(
        f"INSERT INTO {schema_name(live)}.stream_parties VALUES ('relationship', 'rel-1', 'm1'),"
        " ('relationship', 'rel-1', 'mentor-1')"
    )
    assert (await api.get("/timelines/relationships/rel-1", headers=MENTEE)).status_code == 200  # m1's own
    for outsider in (auth("m2", Role.mentee), auth("mentor-2", Role.mentor)):  # named in it, but no party of it
        response = await api.get("/timelines/relationships/rel-1", headers=outsider)
        assert (response.status_code, response.json()) == (404, {"detail": "no relationship rel-1"})  # as if none
    assert (await api.get("/timelines/participants/m1", headers=ANALYST)).status_code == 403
    assert (await api.get("/replays/42", headers=ANALYST)).json() == {"detail": "no replay 42 in this process"}


async def test_the_program_filter_and_the_programs_compared(api, pool) -> None:
    async with pool.acquire() as conn:
        live = await create_generation(conn)
        await make_live(conn, live)
    schema = schema_name(live)
    await pool.execute(
        f"INSERT INTO {schema}.programs VALUES ('default', NULL, NULL, now()),"
        " ('faculty', 'Faculty', 'one_to_one', now())"
    )
    await pool.execute(
        f"INSERT INTO {schema}.participants (participant_id, is_mentee, cohort, registered_at)"
        " SELECT 'm' || i, true, '2026-01', now() FROM generate_series(1, 4) AS i"
    )
    await pool.execute(
        f"INSERT INTO {schema}.program_members SELECT 'faculty', 'm' || i FROM generate_series(1, 3) AS i"
    )
    await pool.execute(
        f"INSERT INTO {schema}.requests (request_id, mentee_id, ranked_at, program_id)"
        " VALUES ('r1', 'm1', now(), 'faculty'), ('r2', 'm4', now(), NULL)"
    )
    faculty = (await api.get("/dashboard.json", params={"program": "faculty"}, headers=ANALYST)).json()
    assert faculty["filters"]["program"] == "faculty"
    assert (faculty["participants"]["mentees"], faculty["requests"]["submitted"]) == (3, 1)
    default = (await api.get("/dashboard.json", params={"program": "default"}, headers=ANALYST)).json()
    assert default["suppressed"] is True  # no member of "default" (fewer than min_cell 3)
    everyone = (await api.get("/dashboard.json", headers=ANALYST)).json()
    assert everyone["requests"]["submitted"] == 2 and "program" not in everyone["filters"]
    bad = await api.get("/dashboard.json", params={"program": "Not a slug!"}, headers=ANALYST)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "program"]

    compared = await api.get("/dashboard/programs.json", params={"program": "ignored"}, headers=ANALYST)
    rows = {row["program_id"]: row for row in compared.json()["programs"]}
    assert rows["default"] == {"program_id": "default", "name": None, "model": None, "suppressed": True}
    assert rows["faculty"]["name"] == "Faculty" and rows["faculty"]["requests.submitted"] == 1
    assert (await api.get("/dashboard/programs.json", headers=MENTEE)).status_code == 403
    page = await api.get("/dashboard", params={"program": "faculty"}, headers=ANALYST)
    assert page.status_code == 200
    assert "<tr data-program='faculty'>" in page.text and "name='program' value='faculty'" in page.text


async def test_a_read_whose_generation_was_swapped_out_meanwhile_reads_the_new_one(pool, monkeypatch) -> None:
    """A replay's swap drops the previous live schema: a read that looked it up just before reads the new one."""
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    async with pool.acquire() as conn:
        old = await create_generation(conn)
        await make_live(conn, old)
        new = await create_generation(conn)
        await make_live(conn, new)  # drops the old one's schema
    reads = Reads(lambda: pool, SHAPE, min_cell=3)
    looked_up = [schema_name(old)]  # the lookup that raced the swap
    served = reads.schema

    async def stale_first(generation: int | None = None) -> str:
        return looked_up.pop() if looked_up else await served(generation)

    monkeypatch.setattr(reads, "schema", stale_first)
    figures = await reads.figures(Filters(), None, Principal(subject="an-1", roles=frozenset({Role.analyst})))
    assert figures["requests"]["submitted"] == 0 and not looked_up
