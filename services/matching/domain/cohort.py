"""A cohort's profiles as arrays, scored a block of mentees at a time.

``score_block`` is ``compatibility.score`` for every mentee in the block against every
mentor, with the same integer arithmetic (a unit test holds them equal). Mentees and mentors
are ordered by id, so an index order is an id order and ties break by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from services.matching.domain.compatibility import (
    CAREER_STAGES,
    FULL,
    INTERESTS_FOR_FULL,
    MINUTES_PER_POINT,
    MenteeProfile,
    MentorProfile,
    Weights,
    stage_points,
)

FORMATS = ("in_person", "video", "phone", "hybrid")
_STAGE_TABLE = np.array([stage_points(gap) for gap in range(-len(CAREER_STAGES), len(CAREER_STAGES) + 1)])


def _codes(vocabulary: dict[str, int], words: Iterable[str]) -> list[int]:
    return [vocabulary.setdefault(word, len(vocabulary)) for word in words]


def _bitsets(sets: Sequence[Iterable[int]], size: int) -> np.ndarray:
    words = np.zeros((len(sets), max(1, -(-size // 64))), dtype=np.uint64)
    for row, codes in enumerate(sets):
        for code in codes:
            words[row, code // 64] |= np.uint64(1) << np.uint64(code % 64)
    return words


def _has_bit(words: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """words: (rows, W) bitsets; codes: (cols,) -> (rows, cols) membership."""
    picked = words[:, codes // 64]
    return ((picked >> (codes % 64).astype(np.uint64)) & np.uint64(1)).astype(bool)


class Cohort:
    def __init__(self, mentees: Iterable[MenteeProfile], mentors: Iterable[MentorProfile]) -> None:
        self.mentees = tuple(sorted(mentees, key=lambda m: m.mentee_id))
        self.mentors = tuple(sorted(mentors, key=lambda m: m.mentor_id))
        self._encode()
        if len(set(self.mentee_ids)) != self.mentee_count or len(self.mentor_index) != self.mentor_count:
            raise ValueError("mentee and mentor ids must be unique")

    @property
    def mentee_count(self) -> int:
        return len(self.mentees)

    @property
    def mentor_count(self) -> int:
        return len(self.mentors)

    def _encode(self) -> None:
        mentees, mentors = self.mentees, self.mentors
        specialties: dict[str, int] = {}
        interests: dict[str, int] = {}
        languages: dict[str, int] = {}
        departments: dict[str, int] = {}
        self.mentee_ids = tuple(m.mentee_id for m in mentees)
        self.mentor_ids = tuple(m.mentor_id for m in mentors)
        self.mentor_index = {mentor_id: j for j, mentor_id in enumerate(self.mentor_ids)}
        self.open_slots = np.array([m.open_slots for m in mentors], dtype=np.int64)
        self.mentee_specialty = np.array(_codes(specialties, (m.specialty for m in mentees)), dtype=np.int64)
        self.mentor_specialty = np.array(_codes(specialties, (m.specialty for m in mentors)), dtype=np.int64)
        preferred = [_codes(specialties, sorted(m.preferences.specialties)) for m in mentees]
        mentee_interests = [_codes(interests, sorted(m.interests)) for m in mentees]
        mentor_interests = [_codes(interests, sorted(m.interests)) for m in mentors]
        mentee_languages = [_codes(languages, m.languages) for m in mentees]
        mentor_languages = [_codes(languages, m.languages) for m in mentors]
        self.mentee_interests = _bitsets(mentee_interests, len(interests))
        self.mentor_interests = _bitsets(mentor_interests, len(interests))
        self.mentee_languages = _bitsets(mentee_languages, len(languages))
        self.mentor_languages = _bitsets(mentor_languages, len(languages))
        self.mentee_first_language = np.array([c[0] if c else -1 for c in mentee_languages], dtype=np.int64)
        self.preferred_specialties = _bitsets(preferred, len(specialties))
        self.mentee_stage = np.array([CAREER_STAGES.index(m.career_stage) for m in mentees], dtype=np.int64)
        self.mentor_stage = np.array([CAREER_STAGES.index(m.career_stage) for m in mentors], dtype=np.int64)
        self.mentee_offset = np.array([m.utc_offset_minutes for m in mentees], dtype=np.int32)
        self.mentor_offset = np.array([m.utc_offset_minutes for m in mentors], dtype=np.int32)
        self.mentee_department = self._departments(departments, (m.department for m in mentees))
        self.mentor_department = self._departments(departments, (m.department for m in mentors))
        self.preferred_formats = self._format_bits(m.preferences.formats for m in mentees)
        self.mentor_formats = self._format_bits(m.formats for m in mentors)
        self.wants_same_department = np.array([m.preferences.same_department for m in mentees], dtype=bool)
        self.preferences_stated = np.array([m.preferences.stated for m in mentees], dtype=np.int64)

    @staticmethod
    def _departments(vocabulary: dict[str, int], names: Iterable[str | None]) -> np.ndarray:
        return np.array([-1 if n is None else _codes(vocabulary, [n])[0] for n in names], dtype=np.int64)

    @staticmethod
    def _format_bits(format_sets: Iterable[frozenset[str]]) -> np.ndarray:
        return np.array(
            [sum(1 << FORMATS.index(f) for f in formats if f in FORMATS) for formats in format_sets], dtype=np.int64
        )

    def share_language(self, rows: slice) -> np.ndarray:
        shared = self.mentee_languages[rows, None, :] & self.mentor_languages[None, :, :]
        return shared.any(axis=2)

    def score_block(self, rows: slice, weights: Weights) -> np.ndarray:
        """Scores (0-100) of the mentees in ``rows`` against every mentor, shape (rows, mentors), int32."""
        earned = self._stage_table(weights)[self.mentee_stage[rows]][:, self.mentor_stage]
        same = self.mentee_specialty[rows, None] == self.mentor_specialty[None, :]
        earned += np.int32(weights.specialty * FULL) * same
        if weights.interests:
            shared = np.zeros(earned.shape, dtype=np.uint8)
            for w in range(self.mentee_interests.shape[1]):
                shared += np.bitwise_count(self.mentee_interests[rows, None, w] & self.mentor_interests[None, :, w])
            np.minimum(shared, INTERESTS_FOR_FULL, out=shared)
            earned += np.int32(weights.interests * FULL // INTERESTS_FOR_FULL) * shared
        if weights.language:
            first = self.mentee_first_language[rows]
            speaks_first = _has_bit(self.mentor_languages, np.maximum(first, 0)).T & (first[:, None] >= 0)
            earned += np.int32(weights.language * FULL // 2) * (speaks_first + np.int32(1))
        if weights.time_zone:
            apart = np.abs(self.mentee_offset[rows, None] - self.mentor_offset[None, :])
            apart %= 1440
            np.minimum(apart, 1440 - apart, out=apart)
            apart //= MINUTES_PER_POINT
            earned += np.int32(weights.time_zone * FULL)
            earned -= np.int32(weights.time_zone) * apart
        stated = self.preferences_stated[rows]
        if weights.preferences and stated.any():
            earned += np.int32(weights.preferences) * self._preference_points(rows, stated)
        total_weight = self._base_weight(weights) + weights.preferences * (stated > 0)
        divisor = np.maximum(total_weight, 1).astype(np.int32)[:, None]
        earned *= 200
        earned += FULL * divisor
        earned //= 2 * FULL * divisor
        earned[total_weight == 0] = 0
        return earned

    @staticmethod
    def _base_weight(weights: Weights) -> int:
        return weights.specialty + weights.interests + weights.career_stage + weights.language + weights.time_zone

    def _stage_table(self, weights: Weights) -> np.ndarray:
        """earned career-stage points by (mentee stage, mentor stage)."""
        stages = np.arange(len(CAREER_STAGES))
        gap = stages[None, :] - stages[:, None]
        return (weights.career_stage * _STAGE_TABLE[gap + len(CAREER_STAGES)]).astype(np.int32)

    def _preference_points(self, rows: slice, stated: np.ndarray) -> np.ndarray:
        met = _has_bit(self.preferred_specialties[rows], self.mentor_specialty).astype(np.int32)
        met += (self.preferred_formats[rows, None] & self.mentor_formats[None, :]) != 0
        department = self.mentee_department[rows, None]
        met += (
            self.wants_same_department[rows, None] & (department >= 0) & (department == self.mentor_department[None, :])
        )
        met *= FULL
        met //= np.maximum(stated, 1).astype(np.int32)[:, None]
        return met
