"""The evaluation figures (issue 18) on real Postgres and a real broker, against hand-computed values:
promotion (late and rescinded HR facts), mentor responsiveness, fast starts, priority groups, suppression."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest

from services.analytics.adapters.dashboard_page import render
from services.analytics.bootstrap import build_app
from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import ensure_live
from services.analytics.projecting.projector import Projector
from services.analytics.querying.dashboard import Filters, program_figures
from services.analytics.querying.evaluation import evaluation_figures, mentor_responsiveness
from services.analytics.settings import AnalyticsSettings
from shared.bus import ensure_topics, new_producer
from shared.db import migrate, migrations_from_package
from shared.events.hr import HrEventRescinded, Worker, WorkerHired, WorkerPromoted, WorkerUpdated
from shared.events.matching import MatchApproved, MentorResponded, RequestExpired, RequestForwarded, RequestRanked
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.events.relationships import AgreementSigned, MeetingLogged, RelationshipStarted
from shared.settings import ServiceSettings
from tests.integration.analytics.test_dashboard import person
from tests.integration.analytics.test_http import ANALYST, DIRECTOR
from tests.integration.analytics.test_timeline_projection import envelope

pytestmark = pytest.mark.integration

NOW = date(2026, 6, 29)  # the latest event: r4 forwarded to c


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), UTC)


def _worker(employee_id: str, hired: str, promoted: str | None = None) -> Worker:
    return Worker(
        employee_id=employee_id,
        legal_name=employee_id,
        work_email=f"{employee_id}@example.edu",
        title="t",
        job_function="faculty",
        department_id="ONC",
        department_name="Oncology",
        country="US",
        original_hire_date=date.fromisoformat(hired),
        last_hire_date=date.fromisoformat(hired),
        last_promotion_date=date.fromisoformat(promoted) if promoted else None,
    )


class Hr:
    """HR events in arrival order, each employee's stream in sequence."""

    def __init__(self) -> None:
        self.sequence: dict[str, int] = {}

    def __call__(self, event, recorded: str):
        self.sequence[event.employee_id] = self.sequence.get(event.employee_id, 0) + 1
        return ("hr", envelope(event, event.employee_id, at(recorded), "hr", self.sequence[event.employee_id]))


def promoted(employee: str, effective: str) -> WorkerPromoted:
    return WorkerPromoted(
        employee_id=employee,
        effective_date=date.fromisoformat(effective),
        recorded_at=at(effective),
        old_title="Assistant Professor",
        new_title="Associate Professor",
    )


def evaluation_events() -> tuple[list, list, list]:
    """Three deliveries: everything but two HR facts; then the rescind of p2's promotion; then p3's late one.

    HR, 2024 cohort: participants p1-p4 (mentees m1-m4), non-participants n1-n3; 2025: n4 alone.
      p1 promoted 2025-06-01 | p2 promoted 2025-09-01, rescinded (2nd delivery) | p3 promoted 2025-03-01,
      recorded 2026-06-20 (3rd delivery, after everything else) | p4 promoted 2026-09-01 (after "now")
      n1's record update carries last_promotion_date 2025-07-01 | n2, n3, n4 never promoted.
    Requests (forwarded at 09:00): r1 m1 → a accepts after 1 day, matched 03-03 | r2 m2 → a declines after
      3 days, → b lets it expire, → c accepts after 12 hours, matched 03-13 | r3 m3 (pilot) → b accepts after
      2 days, matched 04-03 | r4 m4 (pilot) → c, pending at "now" | r5 m5, never forwarded.
    Relationships: rel-1 (r1) signed 03-20 (17 days), meetings 04-10 and (logged later) 03-28 (25 days);
      rel-2 (r2) signed 05-01 (49 days), no meeting; rel-3 (pilot) signed 04-10 (7 days), met 04-20 (17 days);
      rel-4 (pilot, a group of m4 and m6, no match) started 06-15: its 30 days have not passed.
    Priority group committee_member: m1, m2, m3; none for m4, m5, m6. Cohorts: m1 2026-01, the rest 2026-02.
    """
    hr = Hr()
    first = [
        hr(
            WorkerHired(employee_id=e, effective_date=date.fromisoformat(d), recorded_at=at(d), worker=_worker(e, d)),
            d,
        )
        for e, d in (
            ("p1", "2024-01-10"),
            ("p2", "2024-02-01"),
            ("p3", "2024-03-01"),
            ("p4", "2024-04-01"),
            ("n1", "2024-01-15"),
            ("n2", "2024-05-01"),
            ("n3", "2024-06-01"),
            ("n4", "2025-02-01"),
        )
    ]
    first += [hr(promoted("p1", "2025-06-01"), "2025-06-01"), hr(promoted("p4", "2026-09-01"), "2026-05-01")]
    wrong = hr(promoted("p2", "2025-09-01"), "2025-09-02")
    first.append(wrong)
    first.append(
        hr(
            WorkerUpdated(
                employee_id="n1",
                effective_date=date(2025, 7, 1),
                recorded_at=at("2025-07-01"),
                worker=_worker("n1", "2024-01-15", promoted="2025-07-01"),
                changed_fields=["title", "last_promotion_date"],
            ),
            "2025-07-01",
        )
    )
    profile = lambda e, when: ("profiles", envelope(e, e.participant_id, at(when), "profiles"))  # noqa: E731
    first += [profile(person(MentorRegistered, p, "Oncology", capacity=3), "2026-01-02") for p in "abc"]
    mentees = [
        ("m1", "p1", "committee_member", "2026-01-05"),
        ("m2", "p2", "committee_member", "2026-02-02"),
        ("m3", "p3", "committee_member", "2026-02-02"),
        ("m4", "p4", None, "2026-02-03"),
        ("m5", None, None, "2026-02-03"),
        ("m6", None, None, "2026-02-04"),
    ]
    first += [
        profile(person(MenteeRegistered, m, "Oncology", employee_id=e, priority_group=g), when)
        for m, e, g, when in mentees
    ]

    def request(rid: str, mentee: str, program: str, steps: list[tuple[object, datetime]]) -> None:
        ranked = RequestRanked(
            request_id=rid,
            mentee_id=mentee,
            program_id=program,
            biography="b",
            motivation="m",
            ranked_mentor_ids=["a", "b", "c"],
        )
        steps = [(ranked, at("2026-03-01")), *steps]
        first.extend(("matching", envelope(e, rid, when, "matching", i + 1)) for i, (e, when) in enumerate(steps))

    def forwarded(rid, mentee, mentor, rank, when):
        return RequestForwarded(
            request_id=rid, mentee_id=mentee, mentor_id=mentor, choice_rank=rank, respond_by=when + 7 * DAY
        ), when

    def answered(rid, mentor, rank, accepted, when):
        return MentorResponded(request_id=rid, mentor_id=mentor, choice_rank=rank, accepted=accepted), when

    def matched(rid, mentee, mentor, rank, program, when):
        return MatchApproved(
            match_id=f"match-{rid}",
            program_id=program,
            mentee_id=mentee,
            mentor_id=mentor,
            mode="director",
            request_id=rid,
            choice_rank=rank,
        ), when

    DAY = timedelta(days=1)
    request(
        "r1",
        "m1",
        "default",
        [
            forwarded("r1", "m1", "a", 1, at("2026-03-02")),
            answered("r1", "a", 1, True, at("2026-03-03")),
            matched("r1", "m1", "a", 1, "default", at("2026-03-03")),
        ],
    )
    expired = RequestExpired(request_id="r2", mentor_id="b", choice_rank=2, respond_by=at("2026-03-12"))
    request(
        "r2",
        "m2",
        "default",
        [
            forwarded("r2", "m2", "a", 1, at("2026-03-02")),
            answered("r2", "a", 1, False, at("2026-03-05")),
            forwarded("r2", "m2", "b", 2, at("2026-03-05")),
            (expired, at("2026-03-12")),
            forwarded("r2", "m2", "c", 3, at("2026-03-12")),
            answered("r2", "c", 3, True, at("2026-03-12", 21)),
            matched("r2", "m2", "c", 3, "default", at("2026-03-13")),
        ],
    )
    request(
        "r3",
        "m3",
        "pilot",
        [
            forwarded("r3", "m3", "b", 1, at("2026-04-01")),
            answered("r3", "b", 1, True, at("2026-04-03")),
            matched("r3", "m3", "b", 1, "pilot", at("2026-04-03")),
        ],
    )
    request("r4", "m4", "pilot", [forwarded("r4", "m4", "c", 1, at("2026-06-29"))])
    request("r5", "m5", "default", [])

    def relationship(rel, mentor, mentee_ids, match_id, program, started, steps):
        start = RelationshipStarted(
            relationship_id=rel,
            model="one_to_one" if len(mentee_ids) == 1 else "group",
            program_id=program,
            mentor_id=mentor,
            mentee_ids=mentee_ids,
            match_id=match_id,
            started_on=date.fromisoformat(started),
        )
        steps = [(start, started), *steps]
        first.extend(
            ("relationships", envelope(e, rel, at(when, 10), "relationships", i + 1))
            for i, (e, when) in enumerate(steps)
        )

    def signed(rel, on):
        agreement = AgreementSigned(
            relationship_id=rel,
            format="video",
            confidentiality_accepted=True,
            no_fault_termination_acknowledged=True,
            signed_by=["x", "y"],
            signed_on=date.fromisoformat(on),
            review_due_on=date(2027, 1, 1),
        )
        return agreement, on

    def met(rel, n, held, logged=None):
        meeting = MeetingLogged(
            relationship_id=rel,
            meeting_id=f"{rel}-{n}",
            held_on=date.fromisoformat(held),
            duration_minutes=30,
            format="video",
        )
        return meeting, logged or held

    relationship(
        "rel-1",
        "a",
        ["m1"],
        "match-r1",
        "default",
        "2026-03-04",
        [signed("rel-1", "2026-03-20"), met("rel-1", 1, "2026-04-10"), met("rel-1", 2, "2026-03-28", "2026-04-12")],
    )
    relationship("rel-2", "c", ["m2"], "match-r2", "default", "2026-03-14", [signed("rel-2", "2026-05-01")])
    relationship(
        "rel-3",
        "b",
        ["m3"],
        "match-r3",
        "pilot",
        "2026-04-04",
        [signed("rel-3", "2026-04-10"), met("rel-3", 1, "2026-04-20")],
    )
    relationship("rel-4", "a", ["m4", "m6"], "grp-1", "pilot", "2026-06-15", [])
    rescind = hr(
        HrEventRescinded(
            employee_id="p2",
            effective_date=date(2025, 9, 1),
            recorded_at=at("2025-09-10"),
            rescinded_event_id=str(wrong[1].id),
            rescinded_type="WorkerPromoted",
        ),
        "2025-09-10",
    )
    late = hr(promoted("p3", "2025-03-01"), "2026-06-20")
    return first, [rescind], [late]


async def deliver(pool, bootstrap: str, topic_name: str, events: list) -> str:
    """Publish ``events`` and project them into the live generation (resuming from its checkpoints)."""
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    topics = {owner: f"{topic_name}.{owner}" for owner in ("hr", "profiles", "matching", "relationships")}
    await ensure_topics(bootstrap, list(topics.values()), partitions=2)
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        for owner, env in events:
            await producer.send_and_wait(topics[owner], env.to_bytes(), key=env.subject.encode())
    finally:
        await producer.stop()
    generation = await ensure_live(pool)
    await Projector(pool, bootstrap, generation, list(topics.values())).run(asyncio.Event(), until_caught_up=True)
    return schema_name(generation)


async def evaluation(pool, schema: str, min_cell: int = 2, program: str | None = None, **filters) -> dict:
    async with pool.acquire() as conn:
        return await evaluation_figures(conn, schema, Filters(**filters), NOW, min_cell, program)


def cohort_2024(figures: dict) -> dict:
    return next(c for c in figures["promotion"]["cohorts"] if c["cohort"] == "2024")


async def test_promotion_follows_late_and_rescinded_hr_facts(pool, broker, topic_name) -> None:
    first, rescind, late = evaluation_events()
    schema = await deliver(pool, broker.bootstrap, topic_name, first)
    counted = await evaluation(pool, schema, min_cell=1)
    assert cohort_2024(counted)["participants"] == {"headcount": 4, "promoted": 2, "promotion_rate": 0.5}  # p1, p2
    assert cohort_2024(counted)["non_participants"] == {"headcount": 3, "promoted": 1, "promotion_rate": 0.3333}

    await deliver(pool, broker.bootstrap, topic_name, rescind)
    undone = await evaluation(pool, schema, min_cell=1)
    assert cohort_2024(undone)["participants"] == {"headcount": 4, "promoted": 1, "promotion_rate": 0.25}  # p1

    await deliver(pool, broker.bootstrap, topic_name, late)
    result = await evaluation(pool, schema)  # min_cell 2 from here on
    assert result["promotion"] == {
        "as_of": "2026-06-29",
        "cohort_by": "hire_year",
        "cohorts": [
            {
                "cohort": "2024",
                "participants": {"headcount": 4, "promoted": 2, "promotion_rate": 0.5},  # p1 and p3 (late)
                "non_participants": {"headcount": 3, "promoted": None, "promotion_rate": None},  # 1 of 3: withheld
            },
            {
                "cohort": "2025",
                "participants": {"headcount": 0, "promoted": 0, "promotion_rate": None},
                "non_participants": {"headcount": None, "promoted": None, "promotion_rate": None},  # n4 alone
            },
        ],
    }
    pilot = await evaluation(pool, schema, min_cell=1, program="pilot")  # participants of pilot: m3, m4 (p3, p4)
    assert cohort_2024(pilot)["participants"] == {"headcount": 2, "promoted": 1, "promotion_rate": 0.5}

    # the rest of the figures on the same projection
    assert result["responsiveness"] == {
        "mentors": 3,
        "suppressed": False,
        "received": 6,
        "accepted": 3,
        "declined": 1,
        "expired": 1,
        "pending": 1,
        "answer_rate": 0.6667,
        "acceptance_rate": 0.5,
        "median_days_to_answer": 1.5,  # answers after 0.5, 1, 2 and 3 days
        # a: median 2 days, b: 2 days, c: 0.5 days (a single mentor's band is withheld)
        "mentors_by_median_days_to_answer": {
            "within_1_day": None,
            "1_to_3_days": 2,
            "3_to_7_days": 0,
            "over_7_days": 0,
            "no_answer": 0,
        },
        "mentors_by_share_answered": {"all": None, "half_or_more": 2, "under_half": 0, "none": 0},
    }
    assert result["fast_starts"] == {
        "as_of": "2026-06-29",
        "fast_within_days": 30,
        "overall": {
            "relationships": 4,
            "median_days_to_agreement": 17,  # 7, 17, 49
            "agreement_within_30_days_rate": 0.6667,  # rel-1 and rel-3 of the 3 whose 30 days have passed
            "median_days_to_first_meeting": 21.0,  # 17 and 25
            "first_meeting_within_30_days_rate": 0.6667,
        },
        "by_program": [
            {
                "program": "default",
                "relationships": 2,
                "median_days_to_agreement": 33.0,
                "agreement_within_30_days_rate": 0.5,
                "median_days_to_first_meeting": None,  # rel-1's alone: withheld
                "first_meeting_within_30_days_rate": 0.5,
            },
            {
                "program": "pilot",
                "relationships": 2,
                "median_days_to_agreement": None,
                "agreement_within_30_days_rate": None,
                "median_days_to_first_meeting": None,
                "first_meeting_within_30_days_rate": None,
            },
        ],
        "by_cohort": [
            {
                "cohort": "2026-01",
                "relationships": None,
                "median_days_to_agreement": None,
                "agreement_within_30_days_rate": None,
                "median_days_to_first_meeting": None,
                "first_meeting_within_30_days_rate": None,
            },
            {
                "cohort": "2026-02",
                "relationships": 3,
                "median_days_to_agreement": 28.0,  # 7 and 49
                "agreement_within_30_days_rate": 0.5,
                "median_days_to_first_meeting": None,
                "first_meeting_within_30_days_rate": 0.5,
            },
        ],
    }
    assert result["by_priority_group"] == [
        {
            "priority_group": "committee_member",
            "requests": 3,
            "matched": 3,
            "match_rate": 1.0,
            "eligible_12m": 3,
            "retained_12m": 3,
            "retention_rate_12m": 1.0,
        },
        {
            "priority_group": "none",
            "requests": 2,
            "matched": 0,
            "match_rate": 0.0,
            "eligible_12m": None,  # p4 alone
            "retained_12m": None,
            "retention_rate_12m": None,
        },
    ]
    assert result["by_demographics"]["reported"] is False


async def test_responsiveness_per_mentor_program_filter_and_small_cells(pool, broker, topic_name, fresh_dsn) -> None:
    first, rescind, late = evaluation_events()
    schema = await deliver(pool, broker.bootstrap, topic_name, first + rescind + late)
    async with pool.acquire() as conn:
        per_mentor = await mentor_responsiveness(conn, schema, Filters(), NOW)
        pilot = await mentor_responsiveness(conn, schema, Filters(), NOW, "pilot")
    row = lambda m, r, a, d, e, p, days: dict(  # noqa: E731
        mentor_id=m, received=r, accepted=a, declined=d, expired=e, pending=p, median_days_to_answer=days
    )
    assert per_mentor == [row("a", 2, 1, 1, 0, 0, 2.0), row("b", 2, 1, 0, 1, 0, 2.0), row("c", 2, 1, 0, 0, 1, 0.5)]
    assert pilot == [row("b", 1, 1, 0, 0, 0, 2.0), row("c", 1, 0, 0, 0, 1, None)]
    withheld = await evaluation(pool, schema, min_cell=5)
    assert withheld["responsiveness"] == {"mentors": None, "suppressed": True}  # 3 mentors
    assert all(v is None for v in withheld["fast_starts"]["overall"].values())  # 4 relationships
    assert withheld["by_priority_group"][0]["match_rate"] is None
    pilot_groups = await evaluation(pool, schema, program="pilot")
    assert [(g["priority_group"], g["requests"]) for g in pilot_groups["by_priority_group"]] == [
        ("committee_member", None),  # r3 alone
        ("none", None),  # r4 alone
    ]

    # through the HTTP API: the per-mentor view is the director's; the page formats numbers
    app = build_app(
        ServiceSettings(service_name="analytics", pg_dsn="postgresql://unused"), AnalyticsSettings(min_cell=2)
    )
    app.state.runtime.pool = pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics") as api:
        assert (await api.get("/dashboard/mentors.json", headers=ANALYST)).status_code == 403
        response = await api.get("/dashboard/mentors.json", headers=DIRECTOR)
        assert response.status_code == 200
        assert response.json()["mentors"] == per_mentor and response.json()["as_of"] == "2026-06-29"
        figures = (await api.get("/dashboard.json", headers=ANALYST)).json()
        assert "mentor_id" not in str(figures["evaluation"])  # analysts see no per-mentor row
        assert figures["evaluation"]["units"]["*_days"] == "days"  # raw numbers, with their units
        csv = (await api.get("/dashboard.csv", headers=ANALYST)).text
        assert "evaluation.fast_starts.overall.median_days_to_agreement,17\r\n" in csv
        assert "evaluation.by_priority_group[committee_member].match_rate,1.0\r\n" in csv
        director_page = (await api.get("/dashboard", headers=DIRECTOR)).text
        c_row = "<th scope='row'>c</th><td>2</td><td>1</td><td>0</td><td>0</td><td>1</td><td>under a day</td>"
        assert c_row in director_page
        assert "mentor-responsiveness" not in (await api.get("/dashboard", headers=ANALYST)).text
    async with pool.acquire() as conn:
        page = render(await program_figures(conn, schema, Filters(), 2), "")
    for chart in ("chart-promotion", "chart-responsiveness", "chart-fast-starts", "chart-priority-groups"):
        assert f'id="{chart}"' in page
    assert "100 %" in page and "17 days" in page  # committee_member's match rate; median days to agreement
