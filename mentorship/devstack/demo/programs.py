"""The demo's three programs, played after the two simulated years (in real time, through the services' APIs):

- **faculty career mentoring**: the built-in program ``default`` (every request of the history is in it), named
  "Faculty career mentoring" by a ``ProgramChanged`` that keeps the terms relationships applied to it all along
  (6-8 weeks, a review every 12 months), so nothing of the history changes meaning;
- **new-hire peer circles** (``new-hire-circles``): a peer program with circle size 4 matched by bulk runs; the
  most recently hired participants are enrolled, one run proposes circles and is committed (one ``GroupFormed``
  per circle, each starting a circle in relationships);
- **residents' group mentoring** (``residents-group``): a group program matched by the director; two mentors
  (a capacity of one group each here) and four early-career mentees are enrolled, the director forms a group,
  the lead mentor proposes the agreement, every member signs it and the group meets (the attendees named).

Who takes part is chosen from the plan's people still at the institution, in a fixed order (so the same seed gives
the same programs); someone a service refuses (left meanwhile, not registered) is skipped for the next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mentorship.devstack.demo.plan import Person, Plan

FACULTY = "default"
FACULTY_NAME = "Faculty career mentoring"
CIRCLES = "new-hire-circles"
RESIDENTS = "residents-group"
PEERS = 8
GROUP_MENTORS = 2
GROUP_MENTEES = 4
SETTINGS = (
    "name",
    "model",
    "matching_mode",
    "response_days",
    "weights",
    "starts_on",
    "ends_on",
    "eligibility",
    "cadence_weeks_min",
    "cadence_weeks_max",
    "review_interval_months",
    "group_size_max",
    "circle_size",
    "inactivity_days",
    "surveys",
    "priority_policy",
)

Call = Callable[..., Awaitable[Any]]
"""``call(service, method, path, subject, role, body=None, ok=(200, 201))``: the driver's call as someone."""


@dataclass
class ProgramsReport:
    programs: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)  # relationship ids
    peers: int = 0
    group: str | None = None
    group_size: int = 0

    def lines(self) -> list[str]:
        return [
            f"{FACULTY_NAME} ({FACULTY}): one-to-one, requests reviewed by the director (the two years above)",
            f"New-hire peer circles ({CIRCLES}): {len(self.circles)} circles for {self.peers} peers from a committed"
            " bulk run",
            f"Residents' group mentoring ({RESIDENTS}): a group of {self.group_size} formed by the director, its"
            " agreement signed by all, one group meeting",
        ]


async def play_programs(plan: Plan, call: Call, director: str, admin: Any, mentor: Any, mentee: Any) -> ProgramsReport:
    """Define the programs, enrol their people, run the circles' bulk run and start the group."""
    report = ProgramsReport()
    staff = {s.employee_id: s for s in plan.staff}
    present = [p for p in plan.people if staff[p.staff.employee_id].left_on is None]

    async def as_director(method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        return await call("matching", method, path, director, admin, body, ok)

    # Faculty career mentoring: the built-in program, named, with the terms it always had in relationships.
    current = await as_director("GET", f"/programs/{FACULTY}")
    settings = {k: current[k] for k in SETTINGS} | {
        "name": FACULTY_NAME,
        "cadence_weeks_min": 6,
        "cadence_weeks_max": 8,
        "review_interval_months": 12,
    }
    await call("matching", "PUT", f"/programs/{FACULTY}", director, admin, settings, (200,))
    report.programs.append(FACULTY)

    today = datetime.now(UTC).date().isoformat()
    base = {"starts_on": today, "response_days": 7, "inactivity_days": 90, "priority_policy": "first"}
    await as_director(
        "POST",
        "/programs",
        base
        | {
            "program_id": CIRCLES,
            "name": "New-hire peer circles",
            "model": "peer",
            "matching_mode": "bulk",
            "circle_size": 4,
            "cadence_weeks_min": 2,
            "cadence_weeks_max": 4,
            "review_interval_months": 6,
        },
    )
    await as_director(
        "POST",
        "/programs",
        base
        | {
            "program_id": RESIDENTS,
            "name": "Residents' group mentoring",
            "model": "group",
            "matching_mode": "admin",
            "group_size_max": 6,
            "cadence_weeks_min": 3,
            "cadence_weeks_max": 6,
            "review_interval_months": 6,
        },
    )
    report.programs += [CIRCLES, RESIDENTS]

    async def enrol(
        program: str, people: list[Person], role: str, wanted: int, capacity: int | None = None
    ) -> list[str]:
        enrolled: list[str] = []
        for person in people:
            if len(enrolled) == wanted:
                break
            body = {"participant_id": person.participant_id, "role": role, "capacity": capacity}
            answer = await call(
                "matching", "POST", f"/programs/{program}/enrolments", director, admin, body, (201, 404, 409, 422)
            )
            if answer is not None and answer.get("participant_id") == person.participant_id:
                enrolled.append(person.participant_id)
        if len(enrolled) < min(wanted, 2):
            raise RuntimeError(f"the demo found too few participants for {program}: {enrolled}")
        return enrolled

    # New-hire peer circles: the latest hires, one bulk run, committed.
    newest = sorted(present, key=lambda p: (p.staff.hired_on, p.participant_id), reverse=True)
    peers = await enrol(CIRCLES, newest, "peer", PEERS)
    run = await as_director("POST", "/bulk-runs", {"mode": "optimal", "program_id": CIRCLES})
    await as_director("POST", f"/bulk-runs/{run['run_id']}/commit")
    circles = await _relationships(call, director, admin, CIRCLES, len(peers) // 4 or 1)
    report.circles, report.peers = [r["relationship_id"] for r in circles], len(peers)

    # Residents' group mentoring: early-career mentees not in a circle, two mentors, a group, its agreement, a meeting.
    mentors = [p for p in present if p.role == "mentor"]
    residents = sorted(
        (p for p in present if p.role == "mentee" and p.participant_id not in peers),
        key=lambda p: (p.career_stage not in ("trainee", "early_career", "student"), p.participant_id),
    )
    lead, *co = await enrol(RESIDENTS, mentors, "mentor", GROUP_MENTORS, capacity=1)
    # A mentor never mentors the same mentee twice, in any program: leave out their mentees of the two years.
    theirs = await _mentees_of(call, director, admin, {lead, *co})
    members = await enrol(RESIDENTS, [r for r in residents if r.participant_id not in theirs], "mentee", GROUP_MENTEES)
    await as_director("POST", f"/programs/{RESIDENTS}/groups", {"mentor_ids": [lead, *co], "mentee_ids": members})
    (group,) = await _relationships(call, director, admin, RESIDENTS, 1)
    rid = report.group = group["relationship_id"]
    report.group_size = 1 + len(co) + len(members)
    draft = await call(
        "relationships",
        "PUT",
        f"/relationships/{rid}/agreement",
        lead,
        mentor,
        {"cadence_weeks_min": 3, "cadence_weeks_max": 6, "format": "in_person", "goals": []},
    )
    signature = {
        "revision": draft["revision"],
        "confidentiality_accepted": True,
        "no_fault_termination_acknowledged": True,
    }
    for party, role in ((lead, mentor), *((m, mentor) for m in co), *((m, mentee) for m in members)):
        await call("relationships", "POST", f"/relationships/{rid}/agreement/signatures", party, role, signature)
    seen = await call("relationships", "GET", f"/relationships/{rid}", lead, mentor)
    topics = list(seen.get("meeting_topics") or [])[:1]
    await call(
        "relationships",
        "POST",
        f"/relationships/{rid}/meetings",
        lead,
        mentor,
        {
            "held_on": today,
            "duration_minutes": 90,
            "format": "in_person",
            "topic_tags": topics,
            "attendee_ids": [lead, *co, *members[:-1]],
            "notes": "First group session: introductions and each resident's goals for the year.",
        },
    )
    return report


async def _mentees_of(call: Call, director: str, admin: Any, mentors: set[str]) -> set[str]:
    """Everyone these mentors mentor now, in any program (matching refuses a second relationship of a pair)."""
    found = await call("relationships", "GET", "/relationships?limit=500", director, admin)
    return {
        mentee
        for r in found["items"]
        if r["phase"] != "closed" and mentors & {r.get("mentor_id"), *r.get("co_mentor_ids", [])}
        for mentee in r.get("mentee_ids", [])
    }


async def _relationships(call: Call, director: str, admin: Any, program: str, at_least: int) -> list[dict]:
    """The program's relationships once relationships has started ``at_least`` of them (from ``GroupFormed``)."""
    deadline = time.monotonic() + 120
    while True:
        found = await call("relationships", "GET", f"/relationships?program_id={program}&limit=500", director, admin)
        items = [r for r in found["items"] if r["phase"] != "closed"]
        if len(items) >= at_least:
            return items
        if time.monotonic() > deadline:
            raise RuntimeError(f"relationships did not start {at_least} relationships in {program} in 120 s")
        await asyncio.sleep(0.5)
