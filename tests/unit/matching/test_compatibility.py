from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.cohort import Cohort
from services.matching.domain.compatibility import (
    MenteePreferences,
    MenteeProfile,
    MentorProfile,
    Weights,
    compatibility,
    score,
    utc_offset_minutes,
)
from tests.unit.matching.profiles import cohorts

pytestmark = pytest.mark.unit

MENTEE = MenteeProfile(
    "e1", "cardiology", "trainee", ("en",), frozenset({"echo", "imaging", "research"}), utc_offset_minutes=-300
)
MENTOR = MentorProfile(
    "m1",
    "cardiology",
    "early_career",
    ("es", "en"),
    frozenset({"echo", "imaging", "teaching"}),
    utc_offset_minutes=-300,
)


def test_reason_names_what_the_pair_shares() -> None:
    result = compatibility(MENTEE, MENTOR, Weights())
    assert (
        result.reason
        == "same specialty: cardiology; 2 shared interests; 1 career stage ahead; speaks en; same time zone"
    )


def test_a_close_match_scores_high_and_a_distant_one_low() -> None:
    distant = MentorProfile("m2", "oncology", "trainee", ("en", "fr"), frozenset({"golf"}), utc_offset_minutes=480)
    assert score(MENTEE, MENTOR, Weights()) == 91  # 100 * (30*60 + 25*40 + 20*60 + 10*60 + 10*60) / (60 * 95)
    assert score(MENTEE, distant, Weights()) == 11
    assert compatibility(MENTEE, distant, Weights()).reason == "same career stage; speaks en; 11 h apart"


def test_weights_shift_the_score() -> None:
    specialty_only = Weights(specialty=1, interests=0, career_stage=0, language=0, time_zone=0, preferences=0)
    assert score(MENTEE, MENTOR, specialty_only) == 100
    stage_only = Weights(specialty=0, interests=0, career_stage=1, language=0, time_zone=0, preferences=0)
    behind = MentorProfile("m3", "cardiology", "student", ("en",))
    assert score(MENTEE, behind, stage_only) == 0
    assert compatibility(MENTEE, behind, stage_only).reason.startswith(
        "same specialty: cardiology; 1 career stage behind"
    )


def test_stated_preferences_count_only_when_stated() -> None:
    wants = MenteeProfile("e2", "surgery", "student", preferences=MenteePreferences(formats=frozenset({"video"})))
    mentor = MentorProfile("m4", "oncology", "trainee", formats=frozenset({"video"}))
    only_preferences = Weights(specialty=0, interests=0, career_stage=0, language=0, time_zone=0, preferences=1)
    assert score(wants, mentor, only_preferences) == 100
    assert compatibility(wants, mentor, Weights()).reason.endswith("meets 1 of 1 preferences")
    assert score(MENTEE, mentor, only_preferences) == 0


@pytest.mark.parametrize("bad", [{"specialty": -1}, {"interests": 1.5}, {"specialty": 10_000}])
def test_weights_are_bounded_integers(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Weights(**bad)  # type: ignore[arg-type]


def test_all_zero_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        Weights(0, 0, 0, 0, 0, 0)


def test_time_zone_offsets_come_from_iana_names() -> None:
    assert utc_offset_minutes("America/Chicago") == -360
    assert utc_offset_minutes("Asia/Kolkata") == 330


WEIGHTS = st.tuples(*[st.integers(0, 1000)] * 6).filter(any).map(lambda values: Weights(*values))


@settings(max_examples=40, deadline=None)
@given(cohorts(), WEIGHTS)
def test_cohort_scores_equal_pair_scores(cohort_profiles: tuple[list, list], weights: Weights) -> None:
    cohort = Cohort(*cohort_profiles)
    block = cohort.score_block(slice(0, cohort.mentee_count), weights)
    for i, mentee in enumerate(cohort.mentees):
        for j, mentor in enumerate(cohort.mentors):
            assert block[i, j] == score(mentee, mentor, weights)
            assert 0 <= block[i, j] <= 100
