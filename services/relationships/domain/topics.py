"""The program's list of meeting topics a meeting may be tagged with."""

from __future__ import annotations

PROGRAM_TOPICS: tuple[str, ...] = (
    "goals",
    "time_management",
    "work_life_balance",
    "negotiation",
    "manuscripts",
    "funding",
    "career_planning",
    "networking",
    "teaching",
    "leadership",
    "clinical_skills",
    "research",
)
