"""Pure translations between the program form and matching's program settings (``ProgramView`` ↔ the body of
``POST /programs`` and ``PUT /programs/{id}``), and the roles a person may enrol in by a program's model.

The form's field names are the service's field paths (``eligibility.departments``, ``weights.specialty``), so a
422 lands on its field through ``forms.place_errors``. Lists are typed as text (commas or lines); HR attributes
one per line, ``name: value, value``. What was typed is sent as typed: matching names what it refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from services.portal.application.forms import join_list, split_list

MODELS = ("one_to_one", "group", "peer")
MATCHING_MODES = ("director_review", "self_match", "admin", "bulk")
REQUEST_MODES = ("director_review", "self_match")
"""The modes in which mentees ask for mentors by a request (the others are matched by the director)."""
PRIORITY_POLICIES = ("first", "weight")
WEIGHTS = ("specialty", "interests", "career_stage", "language", "time_zone", "preferences")
NUMBERS = (
    "response_days",
    "cadence_weeks_min",
    "cadence_weeks_max",
    "review_interval_months",
    "inactivity_days",
)
OPTIONAL_NUMBERS = ("group_size_max", "circle_size")
LISTS = ("eligibility.departments", "eligibility.career_stages", "eligibility.priority_groups", "surveys")
TEXTS = ("name", "model", "matching_mode", "priority_policy", "starts_on", "ends_on")
FIELDS = (
    "program_id",
    *TEXTS,
    *NUMBERS,
    *OPTIONAL_NUMBERS,
    *LISTS,
    "eligibility.hr_attributes",
    *(f"weights.{w}" for w in WEIGHTS),
)
"""Every field of the program form, by the service's path (``place_errors`` puts a 422 on the longest match)."""
DEFAULTS = {
    "model": "one_to_one",
    "matching_mode": "director_review",
    "priority_policy": "first",
    "response_days": "7",
    "cadence_weeks_min": "2",
    "cadence_weeks_max": "6",
    "review_interval_months": "6",
    "inactivity_days": "90",
} | {f"weights.{w}": "100" for w in WEIGHTS}
_ATTRIBUTE = re.compile(r"^\s*([^:]+?)\s*:\s*(.*)$")


def program_values(view: Mapping[str, Any] | None) -> dict[str, str]:
    """A ProgramView (or nothing: a new program) as the form's values, by field name."""
    if view is None:
        return {name: DEFAULTS.get(name, "") for name in FIELDS}
    eligibility = view.get("eligibility") or {}
    values = {name: _text(view.get(name)) for name in ("program_id", *TEXTS, *NUMBERS, *OPTIONAL_NUMBERS)}
    for name in LISTS:
        source = eligibility.get(name.split(".", 1)[1]) if name.startswith("eligibility.") else view.get(name)
        values[name] = join_list(source)
    values["eligibility.hr_attributes"] = "\n".join(
        f"{key}: {join_list(found)}" for key, found in (eligibility.get("hr_attributes") or {}).items()
    )
    weights = view.get("weights") or {}
    values |= {f"weights.{w}": _text(weights.get(w)) for w in WEIGHTS}
    return values


def posted_values(form: Mapping[str, str]) -> dict[str, str]:
    """What was typed, by field name (a form shown again after a refusal keeps it)."""
    return {name: form.get(name, "") for name in FIELDS}


def program_body(form: Mapping[str, str], *, new: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as matching's program body, and the fields the portal itself cannot read (an HR attribute line
    without ``name:``). Empty optional values are ``null``; everything else is sent as typed."""
    errors: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    for number, line in enumerate(form.get("eligibility.hr_attributes", "").splitlines(), start=1):
        if not line.strip():
            continue
        found = _ATTRIBUTE.match(line)
        if found is None:
            errors.setdefault("eligibility.hr_attributes", f"line {number}: write an attribute, a colon, then values")
            continue
        attributes[found.group(1)] = split_list(found.group(2))
    body: dict[str, Any] = {
        "name": form.get("name", ""),
        "model": form.get("model", ""),
        "matching_mode": form.get("matching_mode", ""),
        "priority_policy": form.get("priority_policy", ""),
        "starts_on": form.get("starts_on") or None,
        "ends_on": form.get("ends_on") or None,
        "eligibility": {
            "departments": split_list(form.get("eligibility.departments", "")),
            "career_stages": split_list(form.get("eligibility.career_stages", "")),
            "priority_groups": split_list(form.get("eligibility.priority_groups", "")),
            "hr_attributes": attributes,
        },
        "surveys": split_list(form.get("surveys", "")),
        "weights": {w: form.get(f"weights.{w}", "") for w in WEIGHTS},
    }
    body |= {name: form.get(name, "") for name in NUMBERS}
    body |= {name: form.get(name) or None for name in OPTIONAL_NUMBERS}
    if new:
        body["program_id"] = form.get("program_id", "")
    return body, errors


def roles_for(model: str, held: Iterable[str]) -> list[str]:
    """The roles a person holding ``held`` (``mentor``, ``mentee``) may enrol in, in a program of ``model``."""
    if model == "peer":
        return ["peer"]
    return [role for role in ("mentor", "mentee") if role in set(held)]


def _text(value: object) -> str:
    return "" if value is None else str(value)
