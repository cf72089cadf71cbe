"""What the export leaves out and what it pseudonymises, read from the event catalog itself.

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
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shared.events import Event

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


def is_personal(field: FieldInfo) -> bool:
    return _marker(field, "personal")


def names_a_person(field: FieldInfo) -> bool:
    return _marker(field, "person_id")


def _marker(field: FieldInfo, name: str) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get(name) is True


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``X | None``, ``list[X]`` or ``Annotated[X, …]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            if (found := nested_model(arg)) is not None:
                return found
    return None


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


def treatment(field: FieldInfo) -> Treatment:
    return Treatment(person=True) if names_a_person(field) else Treatment(nested=nested_model(field.annotation))


@functools.cache
def kept_fields(model: type[BaseModel]) -> tuple[tuple[str, Treatment], ...]:
    """The fields of ``model`` that are not personal, each with its treatment."""
    return tuple((name, treatment(field)) for name, field in model.model_fields.items() if not is_personal(field))


def clean(model: type[BaseModel], data: dict[str, Any], pseudonym: Pseudonymiser) -> dict[str, Any]:
    """``data`` (a dump of ``model``) without personal fields, person ids pseudonymised, at every depth."""
    return {name: how.apply(data[name], pseudonym) for name, how in kept_fields(model) if name in data}


def personal_paths(model: type[BaseModel], prefix: str = "") -> tuple[list[str], list[str]]:
    """Dotted names of the fields dropped and of those pseudonymised, for the manifest."""
    dropped: list[str] = []
    pseudonymised: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        if is_personal(field):
            dropped.append(path)
        elif names_a_person(field):
            pseudonymised.append(path)
        elif (inner := nested_model(field.annotation)) is not None:
            more_dropped, more_pseudonymised = personal_paths(inner, f"{path}.")
            dropped += more_dropped
            pseudonymised += more_pseudonymised
    return dropped, pseudonymised


def subject_names_a_person(event: type[Event]) -> bool:
    return event.owner in PERSON_SUBJECT_OWNERS
