"""The portal's pure parts: forms ↔ service bodies, 422 paths placed on form fields, the ranked choices' buttons, the
request timeline, the countdown, the 422 detail's fields, the language negotiation and the sealed tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.portal.adapters import i18n
from services.portal.adapters.tokens import HeldTokens, seal, unseal
from services.portal.application import forms
from services.portal.application.errors import field_errors
from services.portal.application.ranking import rearrange
from services.portal.application.timeline import countdown, timeline

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_lists_typed_as_text() -> None:
    assert forms.split_list("research, grant writing\nteaching,, ") == ["research", "grant writing", "teaching"]
    assert forms.join_list(["a", "b"]) == "a, b" and forms.join_list(None) == ""


def test_the_profile_form_round_trips_and_clears_optional_fields() -> None:
    participant = {
        "profile": {
            "biography": "Bio",
            "specialty": "cardiology",
            "interests": ["research", "teaching"],
            "career_stage": "senior",
            "time_zone": "UTC",
            "languages": ["en", "de"],
            "department": "Medicine",
        },
        "demographics": {"consented": True, "gender": "woman", "first_generation": False},
    }
    values = forms.profile_values(participant)
    assert values["profile.interests"] == "research, teaching" and values["profile.location"] == ""
    assert values["demographics.consented"] == "yes" and values["demographics.first_generation"] == "no"
    body = forms.profile_patch(values, had_demographics=True)
    assert body["profile"]["interests"] == ["research", "teaching"] and body["profile"]["location"] is None
    assert body["profile"]["department"] == "Medicine"
    assert body["demographics"] == {
        "consented": True,
        "gender": "woman",
        "race_ethnicity": None,
        "first_generation": False,
    }


def test_demographics_are_sent_only_with_consent_or_to_withdraw_it() -> None:
    values = {"profile.specialty": "x", "demographics.gender": "man"}
    assert "demographics" not in forms.profile_patch(values, had_demographics=False)
    withdrawn = forms.profile_patch(values, had_demographics=True)["demographics"]
    assert withdrawn == {"consented": False, "gender": None, "race_ethnicity": None, "first_generation": None}


def test_a_services_422_is_placed_next_to_its_form_field() -> None:
    errors = {"profile.interests.3": "too long", "profile.specialty": "required", "name": "odd", "_": "whole"}
    placed = forms.place_errors(errors, forms.PROFILE_FIELDS)
    assert placed == {"profile.interests": "too long", "profile.specialty": "required", "_": "name: odd; whole"}


def test_the_422_detail_becomes_dotted_field_paths() -> None:
    detail = [
        {"loc": ["body", "profile", "interests", 0], "msg": "too long"},
        {"loc": ["query", "limit"], "msg": "too big"},
        "noise",
    ]
    assert field_errors(detail) == {"profile.interests.0": "too long", "limit": "too big"}
    assert field_errors("plain text") == {"_": "plain text"}


@pytest.mark.parametrize(
    ("ranked", "action", "candidate", "after"),
    [
        (["a"], "add", "b", ["a", "b"]),
        (["a", "b", "c"], "add", "d", ["a", "b", "c"]),  # three at most
        (["a", "b"], "add", "a", ["a", "b"]),  # distinct
        (["a", "b", "c"], "up:2", "", ["a", "c", "b"]),
        (["a", "b", "c"], "up:0", "", ["a", "b", "c"]),
        (["a", "b", "c"], "down:0", "", ["b", "a", "c"]),
        (["a", "b", "c"], "down:2", "", ["a", "b", "c"]),
        (["a", "b", "c"], "remove:1", "", ["a", "c"]),
        (["a", "b"], "remove:7", "", ["a", "b"]),
        (["a", "b"], "explode", "", ["a", "b"]),
        (["a", "a", "", "b", "c", "d"], "none", "", ["a", "b", "c"]),
    ],
)
def test_the_ranked_choices_buttons(ranked: list[str], action: str, candidate: str, after: list[str]) -> None:
    assert rearrange(ranked, action, candidate) == after


def view(**fields) -> dict:
    base = {
        "request_id": "r1",
        "status": "submitted",
        "ranked_mentor_ids": ["m1", "m2", "m3"],
        "forwarded_to": [],
        "submitted_at": T0.isoformat(),
        "updated_at": (T0 + timedelta(days=9)).isoformat(),
        "respond_by": None,
        "decline_reason": None,
        "matched_mentor_id": None,
    }
    return base | fields


def kinds(steps) -> list[tuple]:
    return [(s.kind, s.state, s.rank) for s in steps]


def test_a_timeline_from_the_requests_view() -> None:
    assert kinds(timeline(view())) == [
        ("submitted", "done", None),
        ("awaiting_review", "current", None),
        ("next_choice", "pending", 1),
        ("next_choice", "pending", 2),
        ("next_choice", "pending", 3),
    ]
    deadline = T0 + timedelta(days=14)
    second = timeline(view(status="forwarded", forwarded_to=["m1", "m2"], respond_by=deadline.isoformat()))
    assert kinds(second) == [
        ("submitted", "done", None),
        ("reviewed", "done", None),
        ("forwarded", "done", 1),
        ("passed_on", "bad", 1),
        ("forwarded", "current", 2),
        ("next_choice", "pending", 3),
    ]
    assert second[4].deadline == deadline and second[4].mentor_id == "m2"
    matched = timeline(view(status="matched", forwarded_to=["m1", "m2"], matched_mentor_id="m2"))
    assert kinds(matched)[-2:] == [("forwarded", "done", 2), ("matched", "done", None)]
    unmatched = timeline(view(status="unmatched", forwarded_to=["m1", "m2", "m3"]))
    assert kinds(unmatched)[-1] == ("unmatched", "current", None)
    declined = timeline(view(status="declined", decline_reason="Not a program fit"))
    assert kinds(declined) == [("submitted", "done", None), ("declined", "bad", None)]
    assert declined[-1].reason == "Not a program fit"
    assert kinds(timeline(view(status="withdrawn")))[-1] == ("withdrawn", "done", None)


def test_a_timeline_from_the_requests_history_tells_declines_from_expiries() -> None:
    at = T0.isoformat()
    history = [
        {"type": "RequestRanked", "at": at, "data": {}},
        {"type": "RequestReviewed", "at": at, "data": {"approved": True}},
        {"type": "RequestForwarded", "at": at, "data": {"mentor_id": "m1", "choice_rank": 1, "respond_by": at}},
        {"type": "MentorResponded", "at": at, "data": {"mentor_id": "m1", "choice_rank": 1, "accepted": False}},
        {"type": "RequestForwarded", "at": at, "data": {"mentor_id": "m2", "choice_rank": 2, "respond_by": at}},
        {"type": "RequestExpired", "at": at, "data": {"mentor_id": "m2", "choice_rank": 2, "respond_by": at}},
        {"type": "RequestForwarded", "at": at, "data": {"mentor_id": "m3", "choice_rank": 3, "respond_by": at}},
    ]
    steps = timeline(view(status="forwarded", forwarded_to=["m1", "m2", "m3"]), history)
    assert kinds(steps) == [
        ("submitted", "done", None),
        ("reviewed", "done", None),
        ("forwarded", "done", 1),
        ("mentor_declined", "bad", 1),
        ("forwarded", "done", 2),
        ("expired", "bad", 2),
        ("forwarded", "current", 3),
    ]
    matched = [*history, {"type": "MatchApproved", "at": at, "data": {"mentor_id": "m3", "choice_rank": 3}}]
    assert kinds(timeline(view(status="matched"), matched))[-1] == ("matched", "done", 3)


def test_the_countdown() -> None:
    assert countdown(T0 + timedelta(days=6, hours=5, minutes=59), T0) == (6, 5)
    assert countdown(T0 - timedelta(hours=1), T0) == (0, 0)
    assert countdown(None, T0) is None


def test_the_page_language_is_negotiated_among_the_shipped_catalogs() -> None:
    assert "en" in i18n.available()
    assert i18n.negotiate("de-CH, en;q=0.8", "en") == "en"
    assert i18n.negotiate(None, "en") == "en"
    assert i18n.negotiate("xx;q=abc, ;q=0", "en") == "en"
    assert i18n.translations("en").gettext("Sign out") == "Sign out"


def test_tokens_are_sealed_to_the_session_id() -> None:
    held = HeldTokens("refresh-1", {"urn:mentorship:matching": ("access-1", 1_800_000_000.0)})
    sealed = seal("session-a", held)
    assert b"refresh-1" not in sealed and b"access-1" not in sealed
    assert unseal("session-a", sealed) == held
    assert unseal("session-b", sealed) is None  # the database alone opens nothing
    assert held.live("urn:mentorship:matching", 1_800_000_000 - 31) == "access-1"
    assert held.live("urn:mentorship:matching", 1_800_000_000 - 29) is None  # about to end: fetch a new one
