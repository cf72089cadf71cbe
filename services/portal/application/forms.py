"""Pure translations between the pages' forms and the services' bodies: lists typed as text, check boxes, empty
optional fields, and the services' 422 field paths placed next to the form field they concern."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

CAREER_STAGES = ("student", "trainee", "early_career", "mid_career", "senior", "emeritus")
MEETING_FORMATS = ("in_person", "video", "phone", "hybrid")
TRAINING_KINDS = ("workshop", "handbook")

PROFILE_TEXT = ("biography", "specialty", "career_stage", "time_zone")
PROFILE_OPTIONAL = ("job_function", "department", "location")
PROFILE_LISTS = ("interests", "languages")
PROFILE_FIELDS = tuple(f"profile.{name}" for name in (*PROFILE_TEXT, *PROFILE_OPTIONAL, *PROFILE_LISTS))
DEMOGRAPHIC_FIELDS = (
    "demographics.consented",
    "demographics.gender",
    "demographics.race_ethnicity",
    "demographics.first_generation",
)


def split_list(text: str) -> list[str]:
    """``"research, grant writing\\nteaching"`` → ``["research", "grant writing", "teaching"]`` (commas or lines)."""
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def join_list(values: Iterable[str] | None) -> str:
    return ", ".join(values or ())


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def profile_values(participant: Mapping[str, Any]) -> dict[str, str]:
    """A participant (profiles' read model) as the profile form's values, by field name."""
    profile = participant.get("profile") or {}
    values = {f"profile.{name}": profile.get(name) or "" for name in (*PROFILE_TEXT, *PROFILE_OPTIONAL)}
    values |= {f"profile.{name}": join_list(profile.get(name)) for name in PROFILE_LISTS}
    demographics = participant.get("demographics") or {}
    values["demographics.consented"] = "yes" if demographics.get("consented") else ""
    values["demographics.gender"] = demographics.get("gender") or ""
    values["demographics.race_ethnicity"] = demographics.get("race_ethnicity") or ""
    first = demographics.get("first_generation")
    values["demographics.first_generation"] = "" if first is None else "yes" if first else "no"
    return values


def profile_patch(form: Mapping[str, str], had_demographics: bool) -> dict[str, Any]:
    """The profile form as profiles' ``PATCH /participants/{id}/profile`` body.

    Empty optional fields clear them (``null``); required ones are sent as typed, so profiles names them when they
    are empty. Demographics are sent only with consent, or to withdraw a consent given before."""
    profile: dict[str, Any] = {name: form.get(f"profile.{name}", "") for name in PROFILE_TEXT}
    profile |= {name: form.get(f"profile.{name}") or None for name in PROFILE_OPTIONAL}
    profile |= {name: split_list(form.get(f"profile.{name}", "")) for name in PROFILE_LISTS}
    body: dict[str, Any] = {"profile": profile}
    if form.get("demographics.consented") == "yes":
        body["demographics"] = {
            "consented": True,
            "gender": form.get("demographics.gender") or None,
            "race_ethnicity": form.get("demographics.race_ethnicity") or None,
            "first_generation": yes_no(form.get("demographics.first_generation", "")),
        }
    elif had_demographics:
        body["demographics"] = {"consented": False, "gender": None, "race_ethnicity": None, "first_generation": None}
    return body


def place_errors(errors: Mapping[str, str], fields: Iterable[str]) -> dict[str, str]:
    """Each of a service's 422 field paths on the form field it concerns (``profile.interests.3`` →
    ``profile.interests``); what concerns no field of the form is gathered under ``_``."""
    known = sorted(fields, key=len, reverse=True)
    placed: dict[str, str] = {}
    general: list[str] = []
    for path, reason in errors.items():
        target = next((f for f in known if path == f or path.startswith(f + ".")), None)
        if target is None:
            general.append(reason if path == "_" else f"{path}: {reason}")
        elif target not in placed:
            placed[target] = reason
    if general:
        placed["_"] = "; ".join(general)
    return placed


def version_header(version: object) -> dict[str, str]:
    """``If-Match`` for the version a form was read at (a stale one is answered 409)."""
    return {"If-Match": f'"{version}"'} if isinstance(version, int) else {}
