"""Dated program-evaluation figures (over time, mentor load, cadence, HR retention) for a scripted program.

The scenario is ``program_events`` (see test_dashboard.py) plus the events of ``trend_events``; every
expected number below is worked out by hand in the comments.  "Now" is the latest event's time:
the last survey answer, 2026-06-02.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

import pytest

from services.analytics.adapters.dashboard_page import render
from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import create_generation
from services.analytics.projecting.projections import ALL
from services.analytics.querying.dashboard import Filters, figures_as_rows, program_figures
from shared.events import profiles, relationships
from shared.events.hr import HrEventRescinded, Worker, WorkerHired, WorkerTerminated, WorkerUpdated
from tests.integration.analytics.test_dashboard import person, program_events, publish_and_project
from tests.integration.analytics.test_timeline_projection import envelope

pytestmark = pytest.mark.integration


def at(day: str, hour: int = 12) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), UTC)


def _worker(employee_id: str, hired: str, department: str) -> Worker:
    return Worker(
        employee_id=employee_id,
        legal_name=employee_id,
        work_email=f"{employee_id}@example.edu",
        title="t",
        job_function="faculty",
        department_id=department[:3],
        department_name=department,
        country="US",
        original_hire_date=date.fromisoformat(hired),
        last_hire_date=date.fromisoformat(hired),
    )


def hr_events() -> list[tuple[str, object]]:
    """Workers p1-p5 are staff who join the program (s1-s5); n1-n7 never do.

    2024 cohort  p1 hired 03-01 stays | p2 hired 05-01, leaves 2026-04-30 (after its anniversary)
                 p3 hired 07-01, terminated 2025-02-28 but the termination is rescinded: stays
                 n1 hired 02-01, leaves 2024-11-30 | n3 hired 09-01 stays | n4 hired 10-01, leaves 2026-03-31
                 n2 hired 04-01; an update effective 2025-06-01 arrives first, then (recorded 2026-05-20) a
                 termination back-dated to 2025-01-31: n2 left before its anniversary.
    2025 cohort  p4 hired 03-01 stays | p5 hired 09-01 (anniversary still to come)
                 n5 hired 01-15, leaves 06-30 | n6 hired 08-01 (anniversary to come) | n7 hired 02-01 stays
    """
    hires = [
        ("p1", "2024-03-01", "Oncology"),
        ("p2", "2024-05-01", "Oncology"),
        ("p3", "2024-07-01", "Oncology"),
        ("n1", "2024-02-01", "Oncology"),
        ("n2", "2024-04-01", "Oncology"),
        ("n3", "2024-09-01", "Oncology"),
        ("n4", "2024-10-01", "Oncology"),
        ("p4", "2025-03-01", "Oncology"),
        ("p5", "2025-09-01", "Oncology"),
        ("n5", "2025-01-15", "Radiology"),
        ("n6", "2025-08-01", "Radiology"),
        ("n7", "2025-02-01", "Radiology"),
    ]
    out, sequence = [], {}

    def add(event, recorded: str) -> object:
        sequence[event.employee_id] = sequence.get(event.employee_id, 0) + 1
        env = envelope(event, event.employee_id, at(recorded), "hr", sequence[event.employee_id])
        out.append(("hr", env))
        return env

    for employee, hired, department in hires:
        add(
            WorkerHired(
                employee_id=employee,
                effective_date=date.fromisoformat(hired),
                recorded_at=at(hired),
                worker=_worker(employee, hired, department),
            ),
            hired,
        )

    def leave(e, day, recorded):
        return add(
            WorkerTerminated(
                employee_id=e,
                effective_date=date.fromisoformat(day),
                recorded_at=at(recorded),
                termination_type="voluntary",
            ),
            recorded,
        )

    leave("n1", "2024-11-30", "2024-12-01")
    leave("n5", "2025-06-30", "2025-07-01")
    leave("n4", "2026-03-31", "2026-04-01")
    leave("p2", "2026-04-30", "2026-05-01")
    wrong = leave("p3", "2025-02-28", "2025-03-01")
    add(
        HrEventRescinded(
            employee_id="p3",
            effective_date=date(2025, 2, 28),
            recorded_at=at("2025-03-03"),
            rescinded_event_id=str(wrong.id),
            rescinded_type="WorkerTerminated",
        ),
        "2025-03-03",
    )
    add(
        WorkerUpdated(
            employee_id="n2",
            effective_date=date(2025, 6, 1),
            recorded_at=at("2025-06-01"),
            worker=_worker("n2", "2024-04-01", "Oncology"),
            changed_fields=["title"],
        ),
        "2025-06-01",
    )
    leave("n2", "2025-01-31", "2026-05-20")
    return out


def trend_events() -> list[tuple[str, object]]:
    """``program_events`` (mentors a b c, capacity 2; mentees m1-m7; rel-1 b/m1 started 01-09, signed 01-20 at
    8 weeks, met 02-01, closed 06-01; rel-2 c/m2 started 01-08, no agreement, lagging from 03-19) plus:

    - staff s1-s5 (workers p1-p5, Oncology) register 02-10: s4 a mentor (capacity 3), the others mentees;
      m3 leaves 03-15 and comes back 05-10; s2 leaves 05-01; a's capacity 2 → 1 (05-01), c's 2 → 0 (05-15);
    - rel-3 a/m5 started 02-15, signed 02-20 at 4 weeks, lagging 03-20 and again 04-03 (one spell), meets
      04-09 (logged 04-10), lagging again 05-25;
    - rel-4 s4/[s1, s3] started 02-12, signed at 2 weeks, meets 02-20, 03-05, 03-19, 04-02, closed 04-20;
    - rel-5 s4/s5 started 05-01, no agreement.
    """
    events = program_events()
    profile = lambda e, when, seq=1: ("profiles", envelope(e, e.participant_id, at(when), "profiles", seq))  # noqa: E731
    for i in (1, 2, 3, 5):
        events.append(
            profile(person(profiles.MenteeRegistered, f"s{i}", "Oncology", employee_id=f"p{i}"), "2026-02-10")
        )
    events.append(
        profile(person(profiles.MentorRegistered, "s4", "Oncology", employee_id="p4", capacity=3), "2026-02-10")
    )
    events += [
        profile(
            profiles.ParticipantDeactivated(
                participant_id="m3", reason="left_institution", effective_date=date(2026, 3, 15)
            ),
            "2026-03-15",
            2,
        ),
        profile(
            profiles.ParticipantReactivated(participant_id="m3", effective_date=date(2026, 5, 10)), "2026-05-10", 3
        ),
        profile(
            profiles.ParticipantDeactivated(
                participant_id="s2", reason="left_institution", effective_date=date(2026, 5, 1)
            ),
            "2026-05-01",
            2,
        ),
        profile(profiles.MentorCapacityChanged(participant_id="a", old_capacity=2, new_capacity=1), "2026-05-01", 2),
        profile(profiles.MentorCapacityChanged(participant_id="c", old_capacity=2, new_capacity=0), "2026-05-15", 2),
    ]

    def relationship(rel: str, steps: list[tuple[object, str]]) -> None:
        events.extend(
            ("relationships", envelope(e, rel, at(when), "relationships", i + 1)) for i, (e, when) in enumerate(steps)
        )

    def agreement(rel, mentor, mentees, signed, weeks):
        return relationships.AgreementSigned(
            relationship_id=rel,
            format="video",
            confidentiality_accepted=True,
            no_fault_termination_acknowledged=True,
            signed_by=[mentor, *mentees],
            signed_on=date.fromisoformat(signed),
            review_due_on=date(2027, 1, 1),
            cadence_weeks_min=1,
            cadence_weeks_max=weeks,
        )

    def meeting(rel, n, held):
        return relationships.MeetingLogged(
            relationship_id=rel,
            meeting_id=f"{rel}-{n}",
            held_on=date.fromisoformat(held),
            duration_minutes=30,
            format="video",
        )

    def start(rel, mentor, mentees, on):
        return relationships.RelationshipStarted(
            relationship_id=rel,
            model="one_to_one" if len(mentees) == 1 else "group",
            mentor_id=mentor,
            mentee_ids=mentees,
            match_id=f"match-{rel}",
            started_on=date.fromisoformat(on),
        )

    def lagging(rel, days):
        return relationships.RelationshipLagging(
            relationship_id=rel,
            last_meeting_on=None,
            days_since=days,
            cadence_weeks_max=4,
        )

    relationship(
        "rel-3",
        [
            (start("rel-3", "a", ["m5"], "2026-02-15"), "2026-02-15"),
            (agreement("rel-3", "a", ["m5"], "2026-02-20", 4), "2026-02-20"),
            (lagging("rel-3", 33), "2026-03-20"),
            (lagging("rel-3", 47), "2026-04-03"),
            (meeting("rel-3", 1, "2026-04-09"), "2026-04-10"),
            (lagging("rel-3", 46), "2026-05-25"),
        ],
    )
    relationship(
        "rel-4",
        [
            (start("rel-4", "s4", ["s1", "s3"], "2026-02-12"), "2026-02-12"),
            (agreement("rel-4", "s4", ["s1", "s3"], "2026-02-12", 2), "2026-02-12"),
            *(
                (meeting("rel-4", i, d), d)
                for i, d in enumerate(("2026-02-20", "2026-03-05", "2026-03-19", "2026-04-02"))
            ),
            (
                relationships.RelationshipClosed(
                    relationship_id="rel-4",
                    reason="program_ended",
                    mentor_id="s4",
                    mentee_ids=["s1", "s3"],
                    rematch_requested=False,
                    closed_on=date(2026, 4, 20),
                ),
                "2026-04-20",
            ),
        ],
    )
    relationship("rel-5", [(start("rel-5", "s4", ["s5"], "2026-05-01"), "2026-05-01")])
    return events + hr_events()


@pytest.fixture
async def projected(pool, broker, topic_name):
    """The scenario published to a real broker and projected by the real projector into real Postgres."""
    return await publish_and_project(pool, broker.bootstrap, topic_name, trend_events())


async def figures(projected, min_cell: int = 1, **filters) -> dict:
    pool, schema = projected
    async with pool.acquire() as conn:
        return await program_figures(conn, schema, Filters(**filters), min_cell)


async def test_participants_lagging_and_cadence_over_time(projected) -> None:
    result = await figures(projected)
    assert result["as_of"] == "2026-06-02"
    # mentors a b c from 2025-12, s4 from 02-10; mentees m1-m7 from 2025-12, s1 s2 s3 s5 from 02-10;
    # m3 gone at the end of March and April (left 03-15, back 05-10), s2 gone from 05-01
    assert [(m["month"], m["mentors"], m["mentees"]) for m in result["participants_over_time"]] == [
        ("2025-12", 3, 7),
        ("2026-01", 3, 7),
        ("2026-02", 4, 11),
        ("2026-03", 4, 10),
        ("2026-04", 4, 10),
        ("2026-05", 4, 10),
        ("2026-06", 4, 10),
    ]
    # active: Jan rel-1 rel-2 | Feb +rel-3 +rel-4 | Apr rel-4 closed | May +rel-5 | Jun (06-02) rel-1 closed 06-01
    # spells: rel-2 [03-19, open); rel-3 [03-20, 04-10) (the 04-03 nudge is the same spell), [05-25, open)
    assert [tuple(m.values()) for m in result["lagging_over_time"]] == [
        # month, active, lagging at some point in the month, lagging at its end
        ("2026-01", 2, 0, 0),
        ("2026-02", 4, 0, 0),
        ("2026-03", 4, 2, 2),
        ("2026-04", 3, 2, 1),
        ("2026-05", 4, 2, 2),
        ("2026-06", 3, 2, 2),
    ]

    cadence = result["cadence"]
    over_time = cadence.pop("over_time")
    # rel-1: 01-09..06-01 = 143 days at 8 weeks → 2 expected, 1 held (behind by one)
    # rel-3: 02-15..06-02 = 107 days at 4 weeks → 3 expected, 1 held (behind by two)
    # rel-4: 02-12..04-20 = 67 days at 2 weeks → 4 expected, 4 held (kept); rel-2 and rel-5 have no agreement
    assert cadence == {
        "relationships_with_agreement": 3,
        "without_agreement": 2,
        "meetings_held": 6,
        "meetings_expected": 9,
        "keeping_cadence": 1,
        "share_keeping": 0.3333,
        "behind_by_one": 1,
        "behind_by_two_or_more": 1,
    }
    # at each month's end, relationships active with a signed agreement, held vs expected by then:
    # Jan rel-1 22d→0 ok | Feb rel-1 50d→0 ok, rel-3 13d→0 ok, rel-4 16d→1 held 1 ok
    # Mar rel-1 81d→1 ok, rel-3 44d→1 held 0, rel-4 47d→3 held 3 ok | Apr rel-1 111d→1 ok, rel-3 74d→2 held 1
    # May rel-1 142d→2 held 1, rel-3 105d→3 held 1 | Jun rel-3 only (107d→3, held 1)
    assert [tuple(m.values()) for m in over_time] == [
        # month, meetings held in it, with agreement, keeping cadence, share
        ("2026-01", 0, 1, 1, 1.0),
        ("2026-02", 2, 3, 3, 1.0),
        ("2026-03", 2, 3, 2, 0.6667),
        ("2026-04", 2, 2, 1, 0.5),
        ("2026-05", 0, 2, 0, 0.0),
        ("2026-06", 0, 1, 0, 0.0),
    ]

    # from March: the series start there; of the relationships started since, only rel-5 (no agreement)
    later = await figures(projected, start=date(2026, 3, 1))
    assert [m["month"] for m in later["participants_over_time"]] == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert (later["cadence"]["relationships_with_agreement"], later["cadence"]["without_agreement"]) == (0, 1)
    # Oncology mentees: rel-4 (02-12 to 04-20) and rel-5 (from 05-01), never lagging
    oncology = await figures(projected, department="Oncology")
    assert [tuple(m.values()) for m in oncology["lagging_over_time"]] == [
        ("2026-02", 1, 0, 0),
        ("2026-03", 1, 0, 0),
        ("2026-04", 0, 0, 0),
        ("2026-05", 1, 0, 0),
        ("2026-06", 1, 0, 0),
    ]


async def test_mentor_load_and_retention_by_hire_year(projected) -> None:
    """Retention uses HR effective dates (a late, back-dated termination counts) and ignores rescinded facts."""
    # now: a 1 of 1 (full), b 0 of 2 (rel-1 closed: idle), c 1 of 0 (over), s4 1 (rel-5) of 3 (under half)
    assert (await figures(projected))["mentor_load"] == {
        "as_of": "2026-06-02",
        "mentors": 4,
        "capacity": 6,
        "mentees_placed": 3,
        "utilisation": 0.5,
        "distribution": {"idle": 1, "under_half": 1, "half_or_more": 0, "full": 1, "over": 1},
    }
    # at 03-31: a 1/2, b 1/2, c 1/2, s4 2/3 (rel-4's two mentees): all between half and full
    early = (await figures(projected, min_cell=2, end=date(2026, 3, 31)))["mentor_load"]
    assert early == {
        "as_of": "2026-03-31",
        "mentors": 4,
        "capacity": 9,
        "mentees_placed": 5,
        "utilisation": 0.5556,
        "distribution": {"idle": 0, "under_half": 0, "half_or_more": 4, "full": 0, "over": 0},
    }

    retention = (await figures(projected))["retention"]
    assert retention["cohort_by"] == "hire_year"
    group = lambda h, leavers, eligible, retained, rate: {  # noqa: E731
        "headcount": h,
        "leavers": leavers,
        "eligible_12m": eligible,
        "retained_12m": retained,
        "retention_rate_12m": rate,
    }
    # 2024: p1 p2 p3 all past their anniversary in post (p3's termination rescinded), p2 gone since 04-30;
    #       n1 (left 2024-11-30) and n2 (back-dated: left 2025-01-31) before their anniversary; n3, n4 retained;
    #       n1 n2 n4 gone now.  2025: p4 retained, p5 not yet a year; n5 left 06-30 before its anniversary,
    #       n7 retained, n6 not yet a year.
    assert retention["cohorts"] == [
        {"cohort": "2024", "participants": group(3, 1, 3, 3, 1.0), "non_participants": group(4, 3, 4, 2, 0.5)},
        {"cohort": "2025", "participants": group(2, 0, 1, 1, 1.0), "non_participants": group(3, 1, 2, 1, 0.5)},
    ]
    # Oncology only (HR department now): the 2025 non-participants all work in Radiology
    oncology = (await figures(projected, department="Oncology"))["retention"]["cohorts"]
    assert oncology[1]["non_participants"] == group(0, 0, 0, 0, None)
    assert oncology[0] == retention["cohorts"][0]


async def test_small_cells_are_withheld_in_json_csv_and_page(projected) -> None:
    result = await figures(projected, min_cell=2)
    # a cell is withheld below 2 people, and so is a count whose complement is (it could be derived)
    assert result["retention"]["cohorts"] == [
        {
            "cohort": "2024",
            "participants": {
                "headcount": 3,
                "leavers": None,
                "eligible_12m": 3,
                "retained_12m": 3,
                "retention_rate_12m": 1.0,
            },
            "non_participants": {
                "headcount": 4,
                "leavers": None,
                "eligible_12m": 4,
                "retained_12m": 2,
                "retention_rate_12m": 0.5,
            },
        },
        {
            "cohort": "2025",
            "participants": {
                "headcount": 2,
                "leavers": 0,
                "eligible_12m": None,
                "retained_12m": None,
                "retention_rate_12m": None,
            },
            "non_participants": {
                "headcount": 3,
                "leavers": None,
                "eligible_12m": 2,
                "retained_12m": None,
                "retention_rate_12m": None,
            },
        },
    ]
    assert result["mentor_load"]["distribution"] == {
        "idle": None,
        "under_half": None,
        "half_or_more": 0,
        "full": None,
        "over": None,
    }
    rows = dict(figures_as_rows(result))
    assert rows["retention.cohorts[2025].participants.retention_rate_12m"] is None
    assert rows["retention.cohorts[2024].non_participants.retained_12m"] == 2
    assert rows["mentor_load.distribution.full"] is None
    assert rows["participants_over_time[2026-02].mentees"] == 11
    assert rows["lagging_over_time[2026-03].lagging_at_month_end"] == 2
    assert rows["cadence.over_time[2026-03].share_keeping"] == 0.6667
    page = render(result, "")
    for chart in (
        "chart-participants-over-time",
        "chart-lagging-over-time",
        "chart-cadence",
        "chart-cadence-over-time",
        "chart-mentor-load",
        "chart-retention",
    ):
        assert f'id="{chart}"' in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # a small department is withheld entirely, new figures included
    surgery = await figures(projected, min_cell=2, department="Surgery")
    assert surgery["suppressed"] is True and "retention" not in surgery and "mentor_load" not in surgery


@pytest.mark.parametrize("seed", [1, 2])
async def test_dated_facts_do_not_depend_on_order_across_streams_or_batches(pool, seed) -> None:
    """Interleave the streams at random (each stream keeps its own order) and cut batches at random;
    and, beyond what Kafka can do, feed the HR facts backwards (the rescind before what it rescinds)."""
    from shared.db import migrate, migrations_from_package

    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    streams: dict[str, list] = {}
    for owner, env in trend_events():
        streams.setdefault(f"{owner}:{env.subject}", []).append(env)
    rng = random.Random(seed)
    shuffled = []
    while streams:
        key = rng.choice(sorted(streams))
        shuffled.append(streams[key].pop(0))
        if not streams[key]:
            del streams[key]
    events = trend_events()
    backwards_hr = [env for owner, env in events if owner != "hr"] + [env for owner, env in events if owner == "hr"][
        ::-1
    ]
    results = []
    for order, batch in (
        ([env for _, env in trend_events()], 10_000),
        (shuffled, rng.randint(3, 9)),
        (backwards_hr, 7),
    ):
        async with pool.acquire() as conn:
            schema = schema_name(await create_generation(conn))
            for i in range(0, len(order), batch):
                async with conn.transaction():
                    for projection in ALL:
                        await projection.apply_batch(conn, schema, order[i : i + batch])
        results.append(await figures((pool, schema), min_cell=2))
    assert results[1] == results[0] and results[2] == results[0]
