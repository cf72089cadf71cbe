"""Evaluation facts prepared without I/O, the query rules (medians, bands, fast starts) and the page's formats."""

from __future__ import annotations

from datetime import date

import pytest

from services.analytics.adapters import formats
from services.analytics.projecting.projections import evaluation
from services.analytics.querying import evaluation as rules
from shared.events.hr import WorkerPromoted, WorkerUpdated
from shared.events.matching import MatchApproved, RequestRanked
from tests.analytics_oracle import _start_group
from tests.unit.analytics.events import T0, hired, meeting, record, signed, started, worker

pytestmark = pytest.mark.unit


def test_job_level_changes_by_effective_date() -> None:
    promoted = record(
        WorkerPromoted(employee_id="E1", effective_date=date(2025, 6, 1), recorded_at=T0, old_title="a", new_title="b")
    )
    snapshot = record(
        WorkerUpdated(
            employee_id="E2",
            effective_date=date(2025, 8, 1),
            recorded_at=T0,
            worker=worker("E2", date(2020, 1, 1), last_promotion_date=date(2025, 7, 1)),
            changed_fields=["last_promotion_date"],
        )
    )
    never = record(hired("E3", date(2024, 1, 1)))  # no last_promotion_date: no fact
    assert evaluation.prepare([promoted, snapshot, never]).rows["eval_promotions"] == [
        (promoted.id, "E1", date(2025, 6, 1)),
        (snapshot.id, "E2", date(2025, 7, 1)),
    ]


def test_a_version_1_event_is_in_the_default_program() -> None:
    v1 = {"request_id": "r1", "mentee_id": "m1", "biography": "b", "motivation": "m", "ranked_mentor_ids": ["a"]}
    old = record(type_name=RequestRanked.type_name(), data=v1, schemaversion=1)
    new = record(
        MatchApproved(match_id="x", program_id="pilot", mentee_id="m1", mentor_id="a", mode="admin", request_id="r1")
    )
    prepared = evaluation.prepare([old, new])
    assert prepared.rows["eval_requests"] == [("r1", "default", "m1")]
    assert [row[:3] for row in prepared.rows["eval_matches"]] == [("x", "r1", "pilot")]


def test_the_earliest_milestone_wins_and_a_group_keeps_its_mentees() -> None:
    events = [
        record(started("rel-1", "b", "m1", date(2026, 1, 9))),
        record(meeting("rel-1", "mt-2", date(2026, 2, 10))),
        record(meeting("rel-1", "mt-1", date(2026, 2, 1))),  # logged later, held earlier
        record(signed("rel-1", date(2026, 1, 20))),
    ]
    prepared = evaluation.prepare(events)
    assert prepared.milestones == {("rel-1", "meeting"): date(2026, 2, 1), ("rel-1", "signed"): date(2026, 1, 20)}
    assert prepared.rows["eval_relationships"] == [("rel-1", "mt-1", "default", "m1", date(2026, 1, 9))]


def test_a_payload_missing_a_field_is_skipped_alone() -> None:
    broken = record(type_name=WorkerPromoted.type_name(), data={"employee_id": "E1"}, source="/services/hr")
    assert evaluation.prepare([broken]).rows["eval_promotions"] == []


def test_median_bands_and_fast_starts() -> None:
    assert rules.median([]) is None and rules.median([3, 1, 2]) == 2 and rules.median([0.5, 1, 2, 3]) == 1.5
    assert [rules._answer_band(d) for d in (None, 1, 1.5, 7, 7.5)] == [
        "no_answer",
        "within_1_day",
        "1_to_3_days",
        "3_to_7_days",
        "over_7_days",
    ]
    now = date(2026, 6, 29)
    row = lambda matched, signed=None, met=None: {"matched_on": matched, "signed": signed, "met": met}  # noqa: E731
    rows = [
        row(date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)),  # 30 days: fast; 31 days: lagging
        row(date(2026, 3, 1)),  # nothing after 120 days: lagging
        row(date(2026, 6, 20), date(2026, 6, 25)),  # fast already, within its window
        row(date(2026, 6, 20)),  # window still open: not counted either way
        row(date(2026, 6, 20), date(2026, 7, 1)),  # signed after "now": not yet
    ]
    group = _start_group(rows, now, min_cell=2)  # the scan Postgres' counts are compared with (test_relationship_sums)
    assert group["relationships"] == 5
    assert group["median_days_to_agreement"] == 17.5  # 30 and 5
    assert group["agreement_within_30_days_rate"] == 0.6667  # 2 fast of 3 decided
    assert group["median_days_to_first_meeting"] is None  # one meeting: withheld
    assert group["first_meeting_within_30_days_rate"] == 0.0  # 0 fast of the 2 whose window has passed
    assert _start_group(rows[:1], now, min_cell=2)["relationships"] is None


def test_numbers_as_a_director_reads_them() -> None:
    assert formats.percent(0.4213) == "42 %" and formats.percent(1.0) == "100 %" and formats.percent(None) == "—"
    assert formats.days(12.4) == "12 days" and formats.days(1.2) == "1 day" and formats.days(0.3) == "under a day"
    assert formats.hours_as_days(48.0) == "2 days" and formats.days(None, "<5") == "<5"
    assert formats.days(0.5) == "under a day" and formats.days(1.5) == "2 days" and formats.percent(0.125) == "13 %"


async def test_demographic_breakdowns_say_why_they_are_missing() -> None:
    groups = {"match": {"matched": ["m1"], "not_matched": []}, "retention_12m": {"retained": [], "left": []}}
    unset = await rules.by_demographics(None, groups, 5)
    assert unset == {
        "reported": False,
        "reason": "profiles' address is not configured (MENTORSHIP_ANALYTICS_PROFILES_URL)",
    }

    class Down:
        async def demographics(self, dimension: str, groups: dict, min_cell: int) -> dict:
            raise rules.DemographicsUnavailable("http://profiles answered 503")

    assert (await rules.by_demographics(Down(), groups, 5))["reason"] == (
        "profiles did not answer: http://profiles answered 503"
    )
