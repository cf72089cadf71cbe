from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from services.matching.domain.cohort import Cohort
from services.matching.domain.compatibility import MenteeProfile, MentorProfile, Weights
from services.matching.domain.hard_filters import (
    InReportingLine,
    NoSharedLanguage,
    SamePerson,
    default_filters,
    first_exclusion,
)
from services.matching.domain.suggestions import suggest_mentors
from tests.unit.matching.profiles import cohorts

pytestmark = pytest.mark.unit

SUPERVISOR_OF = {"e1": "m-manager", "m-manager": "m-director", "m-director": "m-dean", "m-dean": "m-director"}


def mentor(mentor_id: str, **changes: object) -> MentorProfile:
    return MentorProfile(mentor_id, **{"specialty": "cardiology", "career_stage": "senior", **changes})  # type: ignore[arg-type]


MENTEE = MenteeProfile("e1", "cardiology", "trainee", ("es", "en"))


def test_no_shared_language_rules_a_mentor_out() -> None:
    assert NoSharedLanguage().excludes(MENTEE, mentor("m1", languages=("fr",))) == "no shared language"
    assert NoSharedLanguage().excludes(MENTEE, mentor("m1", languages=("fr", "en"))) is None


@pytest.mark.parametrize("boss", ["m-manager", "m-director", "m-dean"])
def test_the_manager_and_everyone_above_are_ruled_out(boss: str) -> None:
    rule = InReportingLine(SUPERVISOR_OF)
    assert rule.excludes(MENTEE, mentor(boss)) == "mentor is in the mentee's reporting line"


def test_a_peer_or_a_report_is_not_in_the_reporting_line() -> None:
    rule = InReportingLine({**SUPERVISOR_OF, "m-report": "e1", "m-peer": "m-manager"})
    assert rule.excludes(MENTEE, mentor("m-report")) is None
    assert rule.excludes(MENTEE, mentor("m-peer")) is None


def test_nobody_mentors_themselves() -> None:
    assert SamePerson().excludes(MENTEE, mentor("e1")) == "same person"


def test_first_exclusion_gives_the_first_reason() -> None:
    filters = default_filters(SUPERVISOR_OF)
    assert first_exclusion(filters, MENTEE, mentor("m-manager", languages=("fr",))) == "no shared language"
    assert first_exclusion(filters, MENTEE, mentor("m-other")) is None


def test_suggestions_leave_out_filtered_and_full_mentors() -> None:
    mentors = [
        mentor("m-manager"),
        mentor("m-full", capacity=2, active_mentees=2),
        mentor("m-french", languages=("fr",)),
        mentor("m-b", career_stage="early_career"),
        mentor("m-a", career_stage="early_career"),
        mentor("m-c"),
    ]
    suggestions = suggest_mentors(MENTEE, mentors, Weights(), k=2, filters=default_filters(SUPERVISOR_OF))
    assert [s.mentor_id for s in suggestions] == ["m-a", "m-b"]
    assert suggestions[0].reason == "same specialty: cardiology; 1 career stage ahead; speaks en; same time zone"
    assert suggestions[0].score > suggest_mentors(MENTEE, [mentor("m-c")], Weights())[0].score


@settings(max_examples=30, deadline=None)
@given(cohorts())
def test_cohort_masks_agree_with_pair_rules(cohort_profiles: tuple[list, list]) -> None:
    mentees, mentors = cohort_profiles
    supervisor_of = {m.mentee_id: mentors[0].mentor_id for m in mentees[::2]}
    cohort = Cohort(mentees, mentors)
    for rule in default_filters(supervisor_of):
        mask = rule.excluded_block(cohort, slice(0, cohort.mentee_count))
        expected = np.array(
            [[rule.excludes(e, r) is not None for r in cohort.mentors] for e in cohort.mentees], dtype=bool
        ).reshape(mask.shape)
        assert (mask == expected).all()
