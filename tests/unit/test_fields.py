"""The shared bounded field types: what each refuses, in which words, and that the request models keep them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.matching.adapters.requests import SubmitRequest
from services.profiles.adapters.requests import MenteeRegistration, ProfilePatch
from services.relationships.adapters.requests import LogMeeting, ProposeAgreement
from shared.events.profiles import ProfileFields
from shared.fields import (
    MAX_BIOGRAPHY,
    MAX_INTERESTS,
    MAX_TAG,
    Biography,
    Day,
    Email,
    Interests,
    LanguageTag,
    Name,
)

pytestmark = pytest.mark.unit


def refusal(kind, value) -> str:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(value)
    return refused.value.errors()[0]["msg"]


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\n", "\t", "\x7f", "\x85"])
def test_one_line_text_refuses_every_control_character(character: str) -> None:
    assert "one line of text" in refusal(Name, f"Ada{character}")


def test_a_lone_surrogate_is_refused_it_cannot_be_stored_or_sent() -> None:
    assert "unicode" in refusal(Name, "Ada\ud800") and "unicode" in refusal(Biography, "\udfff")


def test_multi_line_text_allows_tabs_and_line_breaks_only() -> None:
    assert TypeAdapter(Biography).validate_python("Line one\r\n\tline two") == "Line one\r\n\tline two"
    assert "other than tab and line breaks" in refusal(Biography, "bell\x07")
    assert refusal(Biography, "b" * (MAX_BIOGRAPHY + 1)) == f"String should have at most {MAX_BIOGRAPHY} characters"


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=200))
def test_printable_text_within_the_bound_is_kept_as_given(text: str) -> None:
    assert TypeAdapter(Name).validate_python(text) == text


def test_lists_are_bounded_in_items_and_per_item() -> None:
    assert refusal(Interests, ["i"] * (MAX_INTERESTS + 1)).startswith(f"List should have at most {MAX_INTERESTS}")
    assert refusal(Interests, ["i" * (MAX_TAG + 1)]) == f"String should have at most {MAX_TAG} characters"
    assert TypeAdapter(Interests).validate_python(["i" * MAX_TAG] * MAX_INTERESTS)


def test_language_tags_emails_and_days() -> None:
    for tag in ("en", "pt-BR", "zh-Hant-TW"):
        assert TypeAdapter(LanguageTag).validate_python(tag) == tag
    for bad in ("e", "english language", "en_US", "en-", "x" * 36):
        with pytest.raises(ValidationError):
            TypeAdapter(LanguageTag).validate_python(bad)
    for bad in ("ada\x00@example.edu", "ada @example.edu", "ada@example", "a" * 250 + "@example.edu"):
        with pytest.raises(ValidationError):
            TypeAdapter(Email).validate_python(bad)
    assert TypeAdapter(Day).validate_python("2199-12-31") == date(2199, 12, 31)
    assert refusal(Day, "9999-12-31") == "Value error, lies outside 1900-01-01..2199-12-31"


def test_the_request_models_are_never_looser_than_the_events_they_make() -> None:
    """What passes the edge always makes a valid event: the event's bound is at least the body's."""
    event = ProfileFields.model_json_schema()["properties"]
    body = MenteeRegistration.model_json_schema()["$defs"]["ProfileIn"]["properties"]
    assert body["interests"]["maxItems"] <= event["interests"]["maxItems"]
    assert body["interests"]["items"]["maxLength"] <= event["interests"]["items"]["maxLength"]
    assert body["languages"]["items"]["maxLength"] <= event["languages"]["items"]["maxLength"]


@pytest.mark.parametrize(
    ("model", "body", "where"),
    [
        (ProfilePatch, {"profile": {"interests": ["x" * 40_000]}}, ("profile", "interests", 0)),
        (ProfilePatch, {"profile": {"languages": ["en"] * 21}}, ("profile", "languages")),
        (ProfilePatch, {"name": "Ada\u0000"}, ("name",)),
        (SubmitRequest, {"biography": "b", "motivation": "m\x00", "ranked_mentor_ids": ["a"]}, ("motivation",)),
        (SubmitRequest, {"biography": "b", "motivation": "m", "ranked_mentor_ids": ["a\n"]}, ("ranked_mentor_ids", 0)),
        (
            LogMeeting,
            {"held_on": "2026-01-01", "duration_minutes": 5, "format": "video", "topic_tags": ["t" * 51]},
            ("topic_tags", 0),
        ),
        (
            ProposeAgreement,
            {"format": "video", "goals": [{"goal_id": "g", "text": "t\x00", "measure": "m", "due_on": "2027-01-01"}]},
            ("goals", 0, "text"),
        ),
    ],
)
def test_request_bodies_refuse_naming_the_field(model, body, where) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert where in [error["loc"] for error in refused.value.errors()]
