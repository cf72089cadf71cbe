"""The querying side's pure rules: months, small cells, bands, employment, lagging spells, cadence, milestones."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from services.analytics.querying.dashboard import Filters, _participants, _quantile, figures_as_rows
from services.analytics.querying.mentor_load import band
from services.analytics.querying.periods import MAX_MONTHS, cell, month_points, ratio, share_cell
from services.analytics.querying.retention import Worker, _group, anniversary
from services.analytics.querying.timelines import milestones
from tests.analytics_oracle import cadence, lagging_over_time, lagging_spells

pytestmark = pytest.mark.unit


def test_the_rules_behind_the_figures() -> None:
    """Pure rules (no I/O): the edges the scenario does not reach."""

    assert anniversary(date(2024, 2, 29)) == date(2025, 3, 1)
    # hired 2020-01-10, last day 2020-06-30, rehired 2021-03-01
    worker = Worker(hires=[date(2020, 1, 10), date(2021, 3, 1)], terminations=[date(2020, 6, 30)])
    assert [
        worker.employed_on(date.fromisoformat(d))
        for d in ("2020-01-09", "2020-06-30", "2020-07-01", "2021-01-10", "2021-03-01")
    ] == [False, True, False, False, True]
    assert [band(0, 0), band(1, 0), band(1, 3), band(2, 4), band(3, 3), band(4, 3)] == [
        "idle",
        "over",
        "under_half",
        "half_or_more",
        "full",
        "over",
    ]
    assert (share_cell(3, 4, 2), share_cell(2, 4, 2), share_cell(0, 4, 2), share_cell(4, 4, 2)) == (None, 2, 0, 4)
    months = month_points(date(1990, 5, 17), date(2026, 2, 10))
    assert len(months) == MAX_MONTHS and months[-1] == ("2026-02", date(2026, 2, 1), date(2026, 2, 10))
    assert month_points(date(2026, 1, 31), date(2026, 2, 1)) == [
        ("2026-01", date(2026, 1, 1), date(2026, 1, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 1)),
    ]


def test_small_cells_and_ratios() -> None:
    assert [cell(0, 5), cell(4, 5), cell(5, 5)] == [0, None, 5]
    assert (ratio(1, 3), ratio(1, 0)) == (0.3333, None)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def relationship(**fields) -> dict:
    """A row of ``relationship_facts``: the relationship with its sorted meeting and lagging dates."""
    row = {
        "relationship_id": "rel-1",
        "started_on": date(2026, 1, 1),
        "signed_on": date(2026, 1, 1),
        "cadence_weeks": 2,
        "closed_on": None,
        "closed_at": None,
        "held": [],
        "logged": [],
        "lagging": [],
    }
    return {**row, **fields}


def test_a_lagging_spell_ends_at_the_next_meeting_or_the_closing_and_repeated_nudges_are_one() -> None:
    row = relationship(
        lagging=[at("2026-02-01"), at("2026-02-08"), at("2026-04-01")],
        logged=[at("2026-01-20"), at("2026-02-15")],
        closed_at=at("2026-05-01"),
        closed_on=date(2026, 5, 1),
    )
    assert lagging_spells(row) == [(date(2026, 2, 1), date(2026, 2, 15)), (date(2026, 4, 1), date(2026, 5, 1))]
    assert lagging_spells(relationship(lagging=[at("2026-02-01")])) == [(date(2026, 2, 1), None)]


def test_lagging_over_time_counts_during_and_at_the_end_of_each_month() -> None:
    row = relationship(lagging=[at("2026-02-10")], logged=[at("2026-03-05")])
    series = lagging_over_time([row], Filters(), date(2026, 3, 20))
    assert [(m["month"], m["active"], m["lagging_during_month"], m["lagging_at_month_end"]) for m in series] == [
        ("2026-01", 1, 0, 0),
        ("2026-02", 1, 1, 1),
        ("2026-03", 1, 1, 0),
    ]


def test_cadence_expects_a_meeting_per_agreed_period() -> None:
    keeping = relationship(held=[date(2026, 1, 10), date(2026, 1, 24)])  # 4 weeks, every 2: 2 expected
    behind = relationship(relationship_id="rel-2", held=[])
    unsigned = relationship(relationship_id="rel-3", cadence_weeks=None, signed_on=None)
    figures = cadence([keeping, behind, unsigned], Filters(), date(2026, 1, 29))
    assert {k: v for k, v in figures.items() if k != "over_time"} == {
        "relationships_with_agreement": 2,
        "without_agreement": 1,
        "meetings_held": 2,
        "meetings_expected": 4,
        "keeping_cadence": 1,
        "share_keeping": 0.5,
        "behind_by_one": 0,
        "behind_by_two_or_more": 1,
    }
    assert figures["over_time"] == [
        {"month": "2026-01", "meetings_held": 2, "with_agreement": 2, "keeping_cadence": 1, "share_keeping": 0.5}
    ]


def test_a_retention_group_withholds_small_and_derivable_counts() -> None:
    hired = date(2020, 1, 6)
    stayed = [Worker(hires=[hired]) for _ in range(5)]
    left = [Worker(hires=[hired], terminations=[date(2020, 6, 30)])]
    assert _group(stayed + left, date(2026, 1, 1), min_cell=5) == {
        "headcount": 6,
        "leavers": None,  # 1 leaver: small
        "eligible_12m": 6,
        "retained_12m": None,  # 5 of 6: the one not retained could be derived
        "retention_rate_12m": None,
    }
    assert _group(stayed[:4], date(2026, 1, 1), min_cell=5)["headcount"] is None


def test_participants_by_department_withhold_small_cells() -> None:
    rows = [
        {"is_mentor": True, "is_mentee": False, "department": "Medicine", "capacity": 2, "left_on": None},
        {"is_mentor": False, "is_mentee": True, "department": None, "capacity": 0, "left_on": date(2026, 1, 1)},
    ]
    figures = _participants(rows * 3, min_cell=3)
    assert figures["by_department"] == [
        {"department": "Medicine", "mentors": 3, "mentees": 0},
        {"department": "unknown", "mentors": 0, "mentees": 3},
    ]
    assert (figures["mentor_capacity"], figures["left_institution"]) == (6, 3)
    assert _participants(rows, min_cell=3)["by_department"][0] == {
        "department": "Medicine",
        "mentors": None,
        "mentees": 0,
    }


def test_quantiles_and_csv_rows() -> None:
    assert (_quantile([], 0.5), _quantile([1.0, 2.0, 3.0, 4.0], 0.5), _quantile([1.0, 2.0, 3.0, 4.0], 0.9)) == (
        None,
        2.0,
        4.0,
    )
    figures = {"requests": {"matched": 3, "by": [{"department": "Med", "mentors": None}]}, "min_cell": 5}
    assert figures_as_rows(figures) == [
        ("requests.matched", 3),
        ("requests.by[Med].mentors", None),
        ("min_cell", 5),
    ]


def test_milestones_take_the_first_time_each_was_reached() -> None:
    t0 = at("2026-01-05")
    entries = [
        {"event_type": "RequestRanked", "at": t0},
        {"event_type": "MeetingLogged", "at": t0 + timedelta(days=9)},
        {"event_type": "MatchApproved", "at": t0 + timedelta(days=3)},
        {"event_type": "MeetingLogged", "at": t0 + timedelta(days=20)},
        {"event_type": "GoalSet", "at": t0 + timedelta(days=4)},
    ]
    assert [(m["milestone"], m["seconds_since_previous"]) for m in milestones(entries)] == [
        ("RequestRanked", None),
        ("MatchApproved", 3 * 86400.0),
        ("MeetingLogged", 6 * 86400.0),
    ]


def _keeping_month_by_month(rows: list[dict], filters: Filters, now: date) -> list[int]:
    """The definition of ``keeping_cadence`` per month, measured month by month (the sweep must agree)."""
    first = filters.start or min((r["started_on"] for r in rows), default=None)
    days = [day for _, _, day in month_points(first, now)]
    keeping = [0] * len(days)
    for r in rows:
        if r["cadence_weeks"] is None:
            continue
        for i, day in enumerate(days):
            if r["signed_on"] <= day and r["started_on"] <= day and (r["closed_on"] is None or day < r["closed_on"]):
                held = sum(h <= day for h in r["held"])
                keeping[i] += held >= max((day - r["started_on"]).days, 0) // (7 * r["cadence_weeks"])
    return keeping


def test_keeping_cadence_per_month_is_the_month_by_month_definition() -> None:
    rng = random.Random(7)
    for _ in range(200):
        rows = []
        for n in range(rng.randrange(1, 6)):
            started = date(2024, 1, 1) + timedelta(days=rng.randrange(400))
            signed = started + timedelta(days=rng.randrange(60))
            closed = started + timedelta(days=rng.randrange(1, 500)) if rng.random() < 0.5 else None
            held = sorted(started + timedelta(days=rng.randrange(-10, 500)) for _ in range(rng.randrange(12)))
            rows.append(
                relationship(
                    relationship_id=f"rel-{n}",
                    started_on=started,
                    signed_on=signed,
                    closed_on=closed,
                    cadence_weeks=rng.choice([None, 1, 2, 4]),
                    held=held,
                )
            )
        now = date(2024, 6, 1) + timedelta(days=rng.randrange(500))
        filters = Filters(start=date(2024, 3, 1)) if rng.random() < 0.3 else Filters()
        figures = cadence(rows, filters, now)
        assert [m["keeping_cadence"] for m in figures["over_time"]] == _keeping_month_by_month(rows, filters, now)
