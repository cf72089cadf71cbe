"""Rules that rule a mentor out for a mentee, whatever the score.

Each rule answers for one pair (with the reason an admin sees) and for a block of a cohort
at once (a boolean mask, True = excluded), so suggestions and bulk runs apply the same rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from services.matching.domain.compatibility import MenteeProfile, MentorProfile

if TYPE_CHECKING:
    from services.matching.domain.cohort import Cohort


class HardFilter(Protocol):
    def excludes(self, mentee: MenteeProfile, mentor: MentorProfile) -> str | None: ...

    def excluded_block(self, cohort: Cohort, rows: slice) -> np.ndarray: ...


class SamePerson:
    """One person can be both a mentee and a mentor, but not their own."""

    def excludes(self, mentee: MenteeProfile, mentor: MentorProfile) -> str | None:
        return "same person" if mentee.mentee_id == mentor.mentor_id else None

    def excluded_block(self, cohort: Cohort, rows: slice) -> np.ndarray:
        mask = np.zeros((len(range(*rows.indices(cohort.mentee_count))), cohort.mentor_count), dtype=bool)
        for offset, mentee_id in enumerate(cohort.mentee_ids[rows]):
            column = cohort.mentor_index.get(mentee_id)
            if column is not None:
                mask[offset, column] = True
        return mask


class NoSharedLanguage:
    def excludes(self, mentee: MenteeProfile, mentor: MentorProfile) -> str | None:
        return None if set(mentee.languages) & set(mentor.languages) else "no shared language"

    def excluded_block(self, cohort: Cohort, rows: slice) -> np.ndarray:
        return ~cohort.share_language(rows)


@dataclass(frozen=True)
class InReportingLine:
    """A mentor who is the mentee's manager, or above them in the reporting line, is not a mentor."""

    supervisor_of: Mapping[str, str] = field(default_factory=dict)

    def line_above(self, person_id: str) -> Iterator[str]:
        seen = {person_id}
        boss = self.supervisor_of.get(person_id)
        while boss is not None and boss not in seen:
            yield boss
            seen.add(boss)
            boss = self.supervisor_of.get(boss)

    def excludes(self, mentee: MenteeProfile, mentor: MentorProfile) -> str | None:
        if mentor.mentor_id in self.line_above(mentee.mentee_id):
            return "mentor is in the mentee's reporting line"
        return None

    def excluded_block(self, cohort: Cohort, rows: slice) -> np.ndarray:
        mask = np.zeros((len(range(*rows.indices(cohort.mentee_count))), cohort.mentor_count), dtype=bool)
        for offset, mentee_id in enumerate(cohort.mentee_ids[rows]):
            columns = [cohort.mentor_index[b] for b in self.line_above(mentee_id) if b in cohort.mentor_index]
            mask[offset, columns] = True
        return mask


def default_filters(supervisor_of: Mapping[str, str] | None = None) -> tuple[HardFilter, ...]:
    return (SamePerson(), NoSharedLanguage(), InReportingLine(supervisor_of or {}))


def first_exclusion(filters: tuple[HardFilter, ...], mentee: MenteeProfile, mentor: MentorProfile) -> str | None:
    return next((why for f in filters if (why := f.excludes(mentee, mentor)) is not None), None)
