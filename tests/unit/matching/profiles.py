"""Random mentee and mentor profiles for property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from services.matching.domain.compatibility import (
    CAREER_STAGES,
    MenteePreferences,
    MenteeProfile,
    MentorProfile,
)

SPECIALTIES = ["cardiology", "oncology", "surgery"]
INTERESTS = [f"interest-{k}" for k in range(70)]
LANGUAGES = ["en", "es", "fr"]
FORMATS = ["in_person", "video", "phone", "hybrid"]
OFFSETS = st.sampled_from([-720, -480, -300, 0, 60, 330, 345, 600, 840])
DEPARTMENTS = st.sampled_from([None, "medicine", "surgery"])


def _subset(items: list[str], max_size: int) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), max_size=max_size)


@st.composite
def mentees(draw: st.DrawFn, mentee_id: str = "e1") -> MenteeProfile:
    return MenteeProfile(
        mentee_id,
        draw(st.sampled_from(SPECIALTIES)),
        draw(st.sampled_from(CAREER_STAGES)),
        tuple(draw(st.lists(st.sampled_from(LANGUAGES), min_size=0, max_size=2, unique=True))),
        draw(_subset(INTERESTS, 6)),
        draw(OFFSETS),
        draw(DEPARTMENTS),
        MenteePreferences(draw(_subset(SPECIALTIES, 2)), draw(_subset(FORMATS, 2)), draw(st.booleans())),
    )


@st.composite
def mentors(draw: st.DrawFn, mentor_id: str = "m1") -> MentorProfile:
    return MentorProfile(
        mentor_id,
        draw(st.sampled_from(SPECIALTIES)),
        draw(st.sampled_from(CAREER_STAGES)),
        tuple(draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=3, unique=True))),
        draw(_subset(INTERESTS, 6)),
        draw(OFFSETS),
        draw(DEPARTMENTS),
        draw(_subset(FORMATS, 3)),
        draw(st.integers(0, 3)),
        draw(st.integers(0, 1)),
    )


@st.composite
def cohorts(
    draw: st.DrawFn, max_mentees: int = 8, max_mentors: int = 6
) -> tuple[list[MenteeProfile], list[MentorProfile]]:
    n = draw(st.integers(0, max_mentees))
    m = draw(st.integers(1, max_mentors))
    return [draw(mentees(f"e{i}")) for i in range(n)], [draw(mentors(f"m{j}")) for j in range(m)]
