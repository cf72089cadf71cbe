"""Figures per program, and programs compared, checked against hand-computed values (real broker, real Postgres).

Events of the issue-17 contract are written as their publishers will send them: a version-2 ``RequestRanked``,
``MatchApproved`` and ``RelationshipStarted`` carry ``program_id``; ``ProgramDefined``, ``ParticipantEnrolled`` and
``GroupFormed`` are new types.  They are built as raw envelopes (type name, version, payload), so the test holds
whether or not this branch's catalog has those classes and versions yet; version-1 events (before programs) are
built from today's catalog classes and belong to the built-in program ``default``.

The institution: mentors a and b, mentees m1..m6.
- ``default`` (version 1): r1 (m1) matched to a after 48 h, relationship rel-1; r2 (m2) unmatched.
- ``faculty`` (one_to_one, defined and renamed): a, m3 and m4 enrol; r3 (m3) matched to b after 24 h (rel-3);
  r4 (m4) withdrawn; r5 (m1, already mentored by a in ``default``) matched to b after 72 h (rel-5).
- ``peers`` (peer): a circle of m5, m6 and m2 formed by a bulk run (GroupFormed, no mentor), relationship rel-g1.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from services.analytics.adapters.dashboard_page import render
from services.analytics.querying.dashboard import Filters, program_comparison, program_figures
from shared.envelope import Envelope
from shared.events.matching import MatchApproved, RequestRanked, RequestUnmatched, RequestWithdrawn
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.events.relationships import RelationshipStarted
from tests.integration.analytics.test_dashboard import publish_and_project
from tests.integration.analytics.test_timeline_projection import DAY, T0, envelope

pytestmark = pytest.mark.integration

HOUR = timedelta(hours=1)


def raw(type_name: str, version: int, data: dict, subject: str, at: datetime, source: str, seq: int = 1) -> Envelope:
    """An envelope as the contract's publisher sends it: the type by name, the payload as its version has it."""
    return Envelope(
        id=uuid.uuid4(),
        source=f"/services/{source}",
        type=type_name,
        time=at,
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=seq,
        schemaversion=version,
        data=data,
    )


def person(cls, pid: str, **extra):
    profile = ProfileFields(biography="b", specialty="s", career_stage="senior", department="Cardiology")
    return cls(participant_id=pid, name=pid, email=f"{pid}@example.edu", profile=profile, **extra)


def ranked_v2(request: str, mentee: str, program: str, at: datetime) -> tuple[str, Envelope]:
    data = {
        "request_id": request,
        "mentee_id": mentee,
        "biography": "b",
        "motivation": "m",
        "ranked_mentor_ids": ["b"],
        "program_id": program,
    }
    return "matching", raw("RequestRanked", 2, data, request, at, "matching")


def matched_v2(match: str, request: str, mentee: str, mentor: str, program: str, at: datetime) -> tuple[str, Envelope]:
    data = {
        "match_id": match,
        "mentee_id": mentee,
        "mentor_id": mentor,
        "mode": "director",
        "request_id": request,
        "choice_rank": 1,
        "program_id": program,
    }
    return "matching", raw("MatchApproved", 2, data, match, at, "matching")


def started_v2(rel: str, match: str, mentor: str | None, mentees: list[str], program: str, model: str, on: date):
    data = {
        "relationship_id": rel,
        "model": model,
        "mentor_id": mentor,
        "co_mentor_ids": [],
        "mentee_ids": mentees,
        "match_id": match,
        "started_on": on.isoformat(),
        "program_id": program,
    }
    return "relationships", raw("RelationshipStarted", 2, data, rel, datetime.combine(on, T0.timetz()), "relationships")


def program_defined(type_name: str, program: str, name: str, model: str, at: datetime, seq: int = 1):
    data = {"program_id": program, "name": name, "model": model, "matching_mode": "director_review"}
    return "matching", raw(type_name, 1, data, program, at, "matching", seq)


def enrolled(program: str, who: str, role: str, at: datetime):
    data = {"program_id": program, "participant_id": who, "role": role, "capacity": None, "enrolled_by": "dir"}
    return "matching", raw("ParticipantEnrolled", 1, data, program, at, "matching")


def events() -> list[tuple[str, Envelope]]:
    people = [
        ("profiles", envelope(person(MentorRegistered, p, capacity=3), p, T0 - 30 * DAY, "profiles")) for p in "ab"
    ]
    people += [
        ("profiles", envelope(person(MenteeRegistered, f"m{i}"), f"m{i}", T0 - 20 * DAY, "profiles"))
        for i in range(1, 7)
    ]
    v1 = lambda request, mentee: RequestRanked(  # noqa: E731
        request_id=request, mentee_id=mentee, biography="b", motivation="m", ranked_mentor_ids=["a"]
    )
    default = [
        ("matching", envelope(v1("r1", "m1"), "r1", T0, "matching")),
        (
            "matching",
            envelope(
                MatchApproved(
                    match_id="mt-1", mentee_id="m1", mentor_id="a", mode="director", request_id="r1", choice_rank=2
                ),
                "mt-1",
                T0 + 48 * HOUR,
                "matching",
            ),
        ),
        (
            "relationships",
            envelope(
                RelationshipStarted(
                    relationship_id="rel-1",
                    model="one_to_one",
                    mentor_id="a",
                    mentee_ids=["m1"],
                    match_id="mt-1",
                    started_on=date(2026, 1, 7),
                ),
                "rel-1",
                T0 + 2 * DAY,
                "relationships",
            ),
        ),
        ("matching", envelope(v1("r2", "m2"), "r2", T0, "matching")),
        (
            "matching",
            envelope(
                RequestUnmatched(request_id="r2", mentee_id="m2", tried_mentor_ids=["a"]),
                "r2",
                T0 + 9 * DAY,
                "matching",
                2,
            ),
        ),
    ]
    faculty = [
        program_defined("ProgramDefined", "faculty", "Faculty careers", "one_to_one", T0 - 40 * DAY),
        program_defined("ProgramChanged", "faculty", "Faculty career mentoring", "one_to_one", T0 - 39 * DAY, 2),
        enrolled("faculty", "a", "mentor", T0 - 10 * DAY),
        enrolled("faculty", "m3", "mentee", T0 - 10 * DAY),
        enrolled("faculty", "m4", "mentee", T0 - 10 * DAY),
        ranked_v2("r3", "m3", "faculty", T0),
        matched_v2("mt-3", "r3", "m3", "b", "faculty", T0 + 24 * HOUR),
        started_v2("rel-3", "mt-3", "b", ["m3"], "faculty", "one_to_one", date(2026, 1, 7)),
        ranked_v2("r4", "m4", "faculty", T0),
        ("matching", envelope(RequestWithdrawn(request_id="r4", mentee_id="m4"), "r4", T0 + DAY, "matching", 2)),
        ranked_v2("r5", "m1", "faculty", T0 + DAY),
        matched_v2("mt-5", "r5", "m1", "b", "faculty", T0 + DAY + 72 * HOUR),
        started_v2("rel-5", "mt-5", "b", ["m1"], "faculty", "one_to_one", date(2026, 1, 10)),
    ]
    circle = {
        "match_id": "g-1",
        "program_id": "peers",
        "model": "peer",
        "mentor_ids": [],
        "mentee_ids": ["m5", "m6", "m2"],
        "formed_by": None,
        "run_id": "run-1",
    }
    peers = [
        program_defined("ProgramDefined", "peers", "New-hire peer circles", "peer", T0 - 40 * DAY),
        ("matching", raw("GroupFormed", 1, circle, "g-1", T0 + 5 * DAY, "matching")),
        started_v2("rel-g1", "g-1", None, ["m5", "m6", "m2"], "peers", "peer", date(2026, 1, 12)),
    ]
    return people + default + faculty + peers


@pytest.fixture
async def projected(pool, broker, topic_name):
    return await publish_and_project(pool, broker.bootstrap, topic_name, events())


async def figures(projected, min_cell: int = 2, **filters) -> dict:
    pool, schema = projected
    async with pool.acquire() as conn:
        return await program_figures(conn, schema, Filters(**filters), min_cell)


async def test_each_program_has_its_own_requests_relationships_and_people(projected) -> None:
    default = await figures(projected, program="default")
    assert default["filters"]["program"] == "default"
    assert default["requests"] | {"time_to_match_hours": None} == {
        "submitted": 2,
        "approved": 0,
        "declined": 0,
        "matched": 1,
        "unmatched": 1,
        "withdrawn": 0,
        "match_rate": 0.5,
        "time_to_match_hours": None,
        "matched_by_choice_rank": {"1": 0, "2": 1, "3": 0},
    }
    assert default["requests"]["time_to_match_hours"] == {"median": 48.0, "p90": 48.0}
    assert default["relationships"]["started"] == 1
    assert (default["participants"]["mentors"], default["participants"]["mentees"]) == (1, 2)  # a; m1, m2

    faculty = await figures(projected, program="faculty")
    requests = faculty["requests"]
    assert (requests["submitted"], requests["matched"], requests["withdrawn"], requests["unmatched"]) == (3, 2, 1, 0)
    assert requests["match_rate"] == 0.6667
    assert requests["time_to_match_hours"] == {"median": 24.0, "p90": 72.0}
    assert requests["matched_by_choice_rank"] == {"1": 2, "2": 0, "3": 0}
    assert (faculty["relationships"]["started"], faculty["relationships"]["active"]) == (2, 2)
    assert (faculty["participants"]["mentors"], faculty["participants"]["mentees"]) == (2, 3)  # a, b; m1, m3, m4
    assert faculty["mentor_load"]["mentees_placed"] == 2  # b's two mentees in this program; a's rel-1 is not

    peers = await figures(projected, program="peers")
    assert peers["requests"]["submitted"] == 0 and peers["requests"]["match_rate"] is None
    assert peers["relationships"]["started"] == 1  # a peer circle: no mentor
    assert (peers["participants"]["mentors"], peers["participants"]["mentees"]) == (0, 3)

    everything = await figures(projected)
    assert everything["requests"]["submitted"] == 5 and everything["relationships"]["started"] == 4
    assert "program" not in everything["filters"]


async def test_a_program_of_too_few_people_is_withheld_and_an_unknown_one_is_empty(projected) -> None:
    assert (await figures(projected, min_cell=4, program="peers"))["suppressed"] is True  # 3 people
    assert (await figures(projected, min_cell=4, program="faculty"))["requests"]["submitted"] == 3  # 5 people
    assert (await figures(projected, min_cell=0, program="nursing"))["requests"]["submitted"] == 0


async def test_programs_side_by_side(projected) -> None:
    pool, schema = projected
    async with pool.acquire() as conn:
        compared = await program_comparison(conn, schema, Filters(), min_cell=3)
    rows = {row["program_id"]: row for row in compared["programs"]}
    assert list(rows) == ["default", "faculty", "peers"]
    assert rows["faculty"]["name"] == "Faculty career mentoring" and rows["faculty"]["model"] == "one_to_one"
    assert rows["peers"]["name"] == "New-hire peer circles" and rows["default"]["name"] is None
    default = rows["default"]  # a, m1, m2: three people, enough to show; one mentor and two mentees are withheld
    assert default["suppressed"] is False
    assert (default["participants.mentors"], default["participants.mentees"], default["requests.submitted"]) == (
        None,
        None,
        2,
    )
    faculty = rows["faculty"]
    assert faculty["suppressed"] is False
    assert (faculty["participants.mentors"], faculty["participants.mentees"]) == (None, 3)  # 2 mentors: withheld
    assert (faculty["requests.submitted"], faculty["requests.matched"], faculty["requests.match_rate"]) == (
        3,
        2,
        0.6667,
    )
    assert (faculty["relationships.started"], faculty["median_time_to_match_hours"]) == (2, 24.0)
    assert faculty["groups_formed"] == 0
    peers = rows["peers"]
    assert (peers["participants.mentees"], peers["relationships.started"], peers["groups_formed"]) == (3, 1, 1)
    page = render(await figures(projected, min_cell=3), "", "", compared)
    assert "<section id='programs'>" in page and page.count("<tr data-program=") == 3
    assert "Faculty career mentoring" in page and "&lt;3" in page
