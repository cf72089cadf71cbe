"""Self-matching: the mentors a mentee might ask, best first, each with why."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.matching.domain.compatibility import (
    MenteeProfile,
    MentorProfile,
    Weights,
    compatibility,
)
from services.matching.domain.hard_filters import (
    HardFilter,
    default_filters,
    first_exclusion,
)


@dataclass(frozen=True)
class Suggestion:
    mentor_id: str
    score: int
    reason: str


def suggest_mentors(
    mentee: MenteeProfile,
    mentors: Iterable[MentorProfile],
    weights: Weights,
    *,
    k: int = 5,
    filters: Sequence[HardFilter] | None = None,
) -> list[Suggestion]:
    """Top ``k`` by score, ties by mentor id; mentors with no open slot or ruled out by a hard filter never appear."""
    filters = default_filters() if filters is None else filters
    open_mentors = (m for m in mentors if m.open_slots > 0 and first_exclusion(tuple(filters), mentee, m) is None)
    scored = [(compatibility(mentee, m, weights), m.mentor_id) for m in open_mentors]
    scored.sort(key=lambda pair: (-pair[0].score, pair[1]))
    return [Suggestion(mentor_id, c.score, c.reason) for c, mentor_id in scored[: max(k, 0)]]
