"""Which payload fields are personal, read from the event catalog itself, and payloads without them.

A field marked ``json_schema_extra={"personal": True}`` (names, e-mails, biographies, motivations,
decline reasons, goals, free text…) holds personal data; one marked ``{"person_id": True}`` names a
person (a participant, an employee, a director). Nested models are walked too (``X``, ``X | None``,
``list[X]``, ``Annotated[X, …]``): ``ProfileUpdated.changes[].old`` is as personal as a top-level field.

What a reader keeps of a payload is decided here, once per event class, never by a hand list of
names: ``without_personal`` (analytics' projections) and ``clean`` (the Parquet export, which also
pseudonymises person ids) keep only the fields the class declares and does not mark personal, so a
field a newer producer added is left out as well until the catalog says what it is.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo


def is_personal(field: FieldInfo) -> bool:
    return _marker(field, "personal")


def names_a_person(field: FieldInfo) -> bool:
    return _marker(field, "person_id")


def _marker(field: FieldInfo, name: str) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get(name) is True


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``X | None``, ``list[X]`` or ``Annotated[X, …]``, if any."""
    return nested(annotation)[0]


def nested(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """``nested_model``, and whether the model is a list's items (``list[X]``, ``list[X] | None`` …)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found, listed = nested(arg)
            if found is not None:
                return found, listed or origin is list
    return None, False


@dataclass(frozen=True)
class Kept:
    """A field that is not personal: whether it names a person, and the model inside it, if any."""

    name: str
    person: bool = False
    nested: type[BaseModel] | None = None


@functools.cache
def kept_fields(model: type[BaseModel]) -> tuple[Kept, ...]:
    """The fields of ``model`` that are not personal."""
    return tuple(
        Kept(name, names_a_person(field), None if names_a_person(field) else nested_model(field.annotation))
        for name, field in model.model_fields.items()
        if not is_personal(field)
    )


def personal_paths(model: type[BaseModel], prefix: str = "") -> tuple[list[str], list[str]]:
    """Dotted names of the personal fields and of the fields naming a person, at every depth
    (``changes.old``: each item's ``old`` of the list ``changes``)."""
    personal: list[str] = []
    people: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        if is_personal(field):
            personal.append(path)
        elif names_a_person(field):
            people.append(path)
        elif (inner := nested_model(field.annotation)) is not None:
            more_personal, more_people = personal_paths(inner, f"{path}.")
            personal += more_personal
            people += more_people
    return personal, people


def clean(model: type[BaseModel], data: dict[str, Any], person: Callable[[str], str] | None = None) -> dict[str, Any]:
    """``data`` (a dump of ``model``) with only the fields ``model`` declares and does not mark personal, at
    every depth; with ``person``, each value of a field naming a person (or each item of a list) mapped by it."""
    kept = {}
    for field in kept_fields(model):
        if field.name not in data:
            continue
        value = data[field.name]
        if value is None:
            pass
        elif field.person and person is not None:
            value = [person(v) for v in value] if isinstance(value, list) else person(value)
        elif field.nested is not None:
            value = (
                [clean(field.nested, v, person) for v in value]
                if isinstance(value, list)
                else (clean(field.nested, value, person))
            )
        kept[field.name] = value
    return kept


Strip = Callable[[dict[str, Any]], dict[str, Any]]


@functools.cache
def stripper(model: type[BaseModel]) -> Strip:
    """``without_personal`` for one model, resolved once: a reader that strips millions of payloads (a
    replay) keeps it per event type instead of walking the model's fields for each payload."""
    kept = kept_fields(model)
    names = frozenset(field.name for field in kept)
    if any(field.nested is not None for field in kept):
        return functools.partial(clean, model)
    if len(kept) == len(model.model_fields):  # nothing personal: most payloads are kept as they are

        def plain(data: dict[str, Any]) -> dict[str, Any]:
            return data if names.issuperset(data) else {k: v for k, v in data.items() if k in names}

        return plain

    def flat(data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k in names}

    return flat


def without_personal(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the fields ``model`` marks personal (at every depth) and without fields it does not
    declare; person ids kept. A payload with nothing to leave out (most of them) is returned as it is."""
    return stripper(model)(data)
