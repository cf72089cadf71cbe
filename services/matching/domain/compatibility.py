"""How well a mentor suits a mentee: a weighted 0-100 score with a plain-language reason.

Every factor earns integer points out of ``FULL`` so the score is exact integer arithmetic,
the same in this scalar form and in the vectorised cohort form (``cohort_scores``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

CAREER_STAGES = ("student", "trainee", "early_career", "mid_career", "senior", "emeritus")
FULL = 60
MAX_WEIGHT = 1000
INTERESTS_FOR_FULL = 3
MINUTES_PER_POINT = 12  # 12 h apart (the farthest two zones can be) earns nothing
REFERENCE_INSTANT = datetime(2025, 1, 15, 12, tzinfo=UTC)


@lru_cache(maxsize=512)
def utc_offset_minutes(time_zone: str, at: datetime = REFERENCE_INSTANT) -> int:
    offset = ZoneInfo(time_zone).utcoffset(at)
    return int(offset.total_seconds() // 60) if offset is not None else 0


@dataclass(frozen=True)
class MenteePreferences:
    """What the mentee asked for; each stated preference counts once."""

    specialties: frozenset[str] = frozenset()
    formats: frozenset[str] = frozenset()
    same_department: bool = False

    @property
    def stated(self) -> int:
        return bool(self.specialties) + bool(self.formats) + self.same_department


@dataclass(frozen=True)
class MenteeProfile:
    mentee_id: str
    specialty: str
    career_stage: str
    languages: tuple[str, ...] = ("en",)
    """First is the mentee's preferred language."""
    interests: frozenset[str] = frozenset()
    utc_offset_minutes: int = 0
    department: str | None = None
    preferences: MenteePreferences = field(default_factory=MenteePreferences)


@dataclass(frozen=True)
class MentorProfile:
    mentor_id: str
    specialty: str
    career_stage: str
    languages: tuple[str, ...] = ("en",)
    interests: frozenset[str] = frozenset()
    utc_offset_minutes: int = 0
    department: str | None = None
    formats: frozenset[str] = frozenset({"video"})
    capacity: int = 1
    active_mentees: int = 0

    @property
    def open_slots(self) -> int:
        return max(0, self.capacity - self.active_mentees)


@dataclass(frozen=True)
class Weights:
    """Relative importance of each factor, set by the program's admin (non-negative integers)."""

    specialty: int = 30
    interests: int = 25
    career_stage: int = 20
    language: int = 10
    time_zone: int = 10
    preferences: int = 5

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(not isinstance(v, int) or not 0 <= v <= MAX_WEIGHT for v in values):
            raise ValueError(f"weights are integers from 0 to {MAX_WEIGHT}")
        if not any(values):
            raise ValueError("at least one weight must be positive")


@dataclass(frozen=True)
class Compatibility:
    score: int
    reason: str


def career_stage_gap(mentee: MenteeProfile, mentor: MentorProfile) -> int:
    return CAREER_STAGES.index(mentor.career_stage) - CAREER_STAGES.index(mentee.career_stage)


def stage_points(gap: int) -> int:
    """One or two stages ahead is ideal; level or behind earns nothing."""
    return {1: FULL, 2: FULL, 3: 40}.get(gap, 20 if gap >= 4 else 0)


def time_apart_minutes(a: int, b: int) -> int:
    apart = abs(a - b) % (24 * 60)
    return min(apart, 24 * 60 - apart)


def preferences_met(mentee: MenteeProfile, mentor: MentorProfile) -> int:
    wanted = mentee.preferences
    return (
        (mentor.specialty in wanted.specialties)
        + bool(wanted.formats & mentor.formats)
        + (wanted.same_department and mentee.department is not None and mentee.department == mentor.department)
    )


def weighted_score(points: dict[str, int], weights: Weights) -> int:
    """Round-half-up of 100 * sum(w * p) / (FULL * sum(w)) over the factors that apply."""
    total_weight = sum(getattr(weights, name) for name in points)
    if total_weight == 0:
        return 0
    earned = sum(getattr(weights, name) * value for name, value in points.items())
    return (200 * earned + FULL * total_weight) // (2 * FULL * total_weight)


def factor_points(mentee: MenteeProfile, mentor: MentorProfile) -> dict[str, int]:
    shared_interests = len(mentee.interests & mentor.interests)
    points = {
        "specialty": FULL if mentee.specialty == mentor.specialty else 0,
        "interests": min(shared_interests, INTERESTS_FOR_FULL) * FULL // INTERESTS_FOR_FULL,
        "career_stage": stage_points(career_stage_gap(mentee, mentor)),
        "language": FULL if mentee.languages and mentee.languages[0] in mentor.languages else FULL // 2,
        "time_zone": FULL
        - time_apart_minutes(mentee.utc_offset_minutes, mentor.utc_offset_minutes) // MINUTES_PER_POINT,
    }
    if mentee.preferences.stated:
        points["preferences"] = FULL * preferences_met(mentee, mentor) // mentee.preferences.stated
    return points


def score(mentee: MenteeProfile, mentor: MentorProfile, weights: Weights) -> int:
    return weighted_score(factor_points(mentee, mentor), weights)


def compatibility(mentee: MenteeProfile, mentor: MentorProfile, weights: Weights) -> Compatibility:
    return Compatibility(score(mentee, mentor, weights), reason(mentee, mentor))


def reason(mentee: MenteeProfile, mentor: MentorProfile) -> str:
    """E.g. "same specialty: cardiology; 2 shared interests; 1 career stage ahead"."""
    parts = []
    if mentee.specialty == mentor.specialty:
        parts.append(f"same specialty: {mentor.specialty}")
    shared = len(mentee.interests & mentor.interests)
    if shared:
        parts.append(f"{shared} shared interest{'s' * (shared != 1)}")
    parts.append(_stage_phrase(career_stage_gap(mentee, mentor)))
    common = [language for language in mentee.languages if language in mentor.languages]
    if common:
        parts.append(f"speaks {common[0]}")
    hours = time_apart_minutes(mentee.utc_offset_minutes, mentor.utc_offset_minutes) / 60
    parts.append("same time zone" if hours == 0 else f"{hours:g} h apart")
    if mentee.preferences.stated:
        parts.append(f"meets {preferences_met(mentee, mentor)} of {mentee.preferences.stated} preferences")
    return "; ".join(parts)


def _stage_phrase(gap: int) -> str:
    if gap == 0:
        return "same career stage"
    stages = f"{abs(gap)} career stage{'s' * (abs(gap) != 1)}"
    return f"{stages} ahead" if gap > 0 else f"{stages} behind"
