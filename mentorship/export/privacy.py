"""What the export leaves out and what it pseudonymises, read from the event catalog itself (``shared.personal``,
the same reading analytics' projections use).

A payload field marked ``json_schema_extra={"personal": True}`` (names, e-mails,
biographies, motivations, demographics, free text…) is dropped, also inside
nested objects.  A field marked ``{"person_id": True}`` names a person
(participant, employee, director…): its value, or each value of a list, is
replaced by a keyed HMAC-SHA256 pseudonym, the same for the same person
everywhere in one export, so joins across event types still work.  The envelope
``subject`` is a person on the profiles and HR topics (participant and employee
ids) and is pseudonymised there too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared import personal
from shared.events import Event
from shared.personal import is_personal, names_a_person, nested_model, personal_paths

__all__ = [
    "Pseudonymiser",
    "Treatment",
    "clean",
    "is_personal",
    "kept_fields",
    "names_a_person",
    "nested_model",
    "personal_paths",
    "subject_names_a_person",
]

PERSON_SUBJECT_OWNERS = frozenset({"profiles", "hr"})
PSEUDONYM_CHARS = 32  # hex digits kept of the HMAC: 128 bits, collisions out of reach


class Pseudonymiser:
    """Keyed pseudonyms; without a key a random one, so two such exports do not join."""

    def __init__(self, key: str | bytes | None = None) -> None:
        self.keyed = bool(key)
        self.key = (key.encode() if isinstance(key, str) else key) if key else secrets.token_bytes(32)
        self._known: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        pseudonym = self._known.get(value)
        if pseudonym is None:
            pseudonym = hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_CHARS]
            if len(self._known) < 1_000_000:  # people, not events: a bound that real institutions stay under
                self._known[value] = pseudonym
        return pseudonym


@dataclass(frozen=True)
class Treatment:
    """What happens to one payload field's value: ``person`` ids are pseudonymised, ``nested`` models cleaned."""

    person: bool = False
    nested: type[BaseModel] | None = None

    def apply(self, value: Any, pseudonym: Pseudonymiser) -> Any:
        if value is None:
            return None
        if self.person:
            return [pseudonym(v) for v in value] if isinstance(value, list) else pseudonym(value)
        if self.nested is None:
            return value
        if isinstance(value, list):
            return [clean(self.nested, item, pseudonym) for item in value]
        return clean(self.nested, value, pseudonym)


@functools.cache
def kept_fields(model: type[BaseModel]) -> tuple[tuple[str, Treatment], ...]:
    """The fields of ``model`` that are not personal (``shared.personal``), each with its treatment."""
    return tuple((kept.name, Treatment(kept.person, kept.nested)) for kept in personal.kept_fields(model))


def clean(model: type[BaseModel], data: dict[str, Any], pseudonym: Pseudonymiser) -> dict[str, Any]:
    """``data`` (a dump of ``model``) without personal fields, person ids pseudonymised, at every depth."""
    return personal.clean(model, data, pseudonym)


def subject_names_a_person(event: type[Event]) -> bool:
    return event.owner in PERSON_SUBJECT_OWNERS
