"""Bounded field types for the services' request models: one place for every length, count and character rule.

Every field a caller sends that can reach an event is bounded at the edge (``adapters/requests.py``), so
FastAPI answers 422 naming the field and the reason before a use case runs. The bounds are generous for
an institution (a biography of a few thousand characters, a name of 200, 30 interests of 100 characters)
and never looser than the event catalog's (``shared/events``), so a body that passes here always makes a
valid event. Text meant as words refuses control characters: single-line text refuses all of them (NUL,
tab, line breaks, DEL, C1); multi-line text (a biography, a reason, notes) allows tab and line breaks only.

Use the named types (``Name``, ``Biography``, ``Tag`` ...) or build one with ``line(n)``, ``text(n)``,
``items(type, n)``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_CHARACTERS = "control characters (U+0000 to U+001F, U+007F to U+009F)"


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"is one line of text: it may not contain {_CONTROL_CHARACTERS} or lone surrogates")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL_EXCEPT_LINES.search(value):
        raise ValueError(f"may not contain {_CONTROL_CHARACTERS} other than tab and line breaks, nor lone surrogates")
    return value


def line(max_length: int, min_length: int = 1) -> Any:
    """One line of text: ``min_length``..``max_length`` characters, no control characters."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_single_line)]


def text(max_length: int, min_length: int = 1) -> Any:
    """Free text over several lines: up to ``max_length`` characters; tab and line breaks allowed."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_multi_line)]


def items(item: Any, max_items: int, min_items: int = 0) -> Any:
    """A list of at most ``max_items`` of ``item`` (each item bounded by its own type)."""
    return Annotated[list[item], Field(min_length=min_items, max_length=max_items)]


# --- the bounds, named once -------------------------------------------------------------------------

MAX_ID = 64
MAX_NAME = 200
MAX_SHORT = 200
MAX_TAG = 100
MAX_TOPIC_TAG = 50
MAX_LANGUAGE = 35
MAX_ZONE = 64
MAX_BIOGRAPHY = 4_000
MAX_REASON = 2_000
MAX_NOTES = 20_000
MAX_INTERESTS = 30
MAX_LANGUAGES = 20
MAX_COUNT = 100_000_000
"""Ceiling for offsets and other counts: past any real institution, well inside Postgres' integer."""

Id = line(MAX_ID)
"""A participant, request, relationship, goal or run id: one line, 1 to 64 characters."""
Name = line(MAX_NAME)
ShortText = line(MAX_SHORT)
"""A specialty, department, location, job function: one line, up to 200 characters."""
Tag = line(MAX_TAG)
"""A short label (an interest, a priority group, a gender as self-described): one line, up to 100 characters."""
TopicTag = line(MAX_TOPIC_TAG)
"""A meeting's topic tag: one line, up to 50 characters."""
LanguageTag = Annotated[
    str,
    StringConstraints(min_length=2, max_length=MAX_LANGUAGE, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"),
]
"""A BCP 47 language tag, e.g. ``en`` or ``pt-BR``."""
ZoneName = line(MAX_ZONE)
"""An IANA time zone name, e.g. ``America/Chicago`` (whether it exists is the service's check)."""
Biography = text(MAX_BIOGRAPHY)
"""A biography or a motivation: up to 4,000 characters over several lines."""
Reason = text(MAX_REASON)
"""A reason or a comment given with a decision: up to 2,000 characters."""
Notes = text(MAX_NOTES)
"""Meeting notes: up to 20,000 characters."""
Interests = items(Tag, MAX_INTERESTS)
Languages = items(LanguageTag, MAX_LANGUAGES)

Email = Annotated[
    str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
]
"""An e-mail address: one @, a dot in the domain, no spaces or control characters, up to 254 characters."""

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def _within_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"lies outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}")
    return value


Day = Annotated[date, AfterValidator(_within_calendar)]
"""A calendar day a program can mean (1900 to 2199), so date arithmetic never runs off the calendar."""


def _moment_within_calendar(value: datetime) -> datetime:
    _within_calendar(value.date())
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_moment_within_calendar)]
"""A moment with its UTC offset, on a day a program can mean (1900 to 2199)."""

Offset = Annotated[int, Field(ge=0, le=MAX_COUNT)]

IdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]
"""An id in a URL path: 1 to 64 characters, no control characters (a non-UUID is simply not found)."""
