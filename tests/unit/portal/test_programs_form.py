"""The program form ↔ matching's program settings, and the roles a person may enrol in (pure)."""

from __future__ import annotations

import pytest

from services.portal.application import programs
from services.portal.application.forms import place_errors

pytestmark = pytest.mark.unit

VIEW = {
    "program_id": "residents",
    "name": "Residents",
    "model": "group",
    "matching_mode": "admin",
    "starts_on": "2026-01-01",
    "ends_on": None,
    "eligibility": {
        "departments": ["Surgery", "Medicine"],
        "career_stages": [],
        "priority_groups": ["first_generation"],
        "hr_attributes": {"location": ["Boston", "Remote"]},
    },
    "response_days": 7,
    "weights": {w: 100 for w in programs.WEIGHTS},
    "cadence_weeks_min": 2,
    "cadence_weeks_max": 6,
    "review_interval_months": 6,
    "group_size_max": 6,
    "circle_size": None,
    "inactivity_days": 90,
    "surveys": ["midpoint"],
    "priority_policy": "weight",
    "version": 3,
}


def test_a_program_read_into_the_form_and_sent_back_is_the_same_settings() -> None:
    values = programs.program_values(VIEW)
    assert values["eligibility.departments"] == "Surgery, Medicine"
    assert values["eligibility.hr_attributes"] == "location: Boston, Remote"
    assert values["ends_on"] == "" and values["circle_size"] == "" and values["group_size_max"] == "6"
    body, errors = programs.program_body(values, new=False)
    assert errors == {} and "program_id" not in body
    assert body["eligibility"] == VIEW["eligibility"]
    assert body["ends_on"] is None and body["circle_size"] is None and body["group_size_max"] == "6"
    assert body["surveys"] == ["midpoint"] and body["priority_policy"] == "weight"
    assert programs.program_body(values, new=True)[0]["program_id"] == "residents"


def test_a_new_program_starts_from_the_defaults_and_typed_values_are_sent_as_typed() -> None:
    values = programs.program_values(None)
    assert values["model"] == "one_to_one" and values["inactivity_days"] == "90" and values["program_id"] == ""
    body, _ = programs.program_body(values | {"cadence_weeks_min": "x"}, new=True)
    assert body["cadence_weeks_min"] == "x"  # matching names it (422), the form shows it again


def test_an_hr_attribute_line_without_a_colon_is_named_at_its_field() -> None:
    _, errors = programs.program_body({"eligibility.hr_attributes": "location: Boston\nRemote"}, new=True)
    assert errors == {"eligibility.hr_attributes": "line 2: write an attribute, a colon, then values"}


def test_matching_field_paths_land_on_the_program_form_fields() -> None:
    placed = place_errors(
        {"eligibility.hr_attributes.location": "unknown attribute", "weights.specialty": "too large", "x": "?"},
        programs.FIELDS,
    )
    assert placed["eligibility.hr_attributes"] == "unknown attribute"
    assert placed["weights.specialty"] == "too large" and placed["_"] == "x: ?"


def test_roles_follow_the_model_and_what_the_person_is() -> None:
    assert programs.roles_for("peer", ["mentee"]) == ["peer"]
    assert programs.roles_for("group", ["mentor", "mentee"]) == ["mentor", "mentee"]
    assert programs.roles_for("one_to_one", ["mentee"]) == ["mentee"]
