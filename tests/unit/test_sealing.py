"""The one codec for personal data (``shared.sealing``), driven by the catalog's ``personal`` markers.

Every event of the catalog is taken with a unique marker in each of its personal fields (found by walking the
catalog, not listed here): sealed, no marker is left readable; opened with the keys, it is what it was;
opened without them (the person erased), it still validates as its event and holds no marker.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.events import event_class
from shared.events.catalog import catalog_events
from shared.sealing import (
    ERASED_EMAIL,
    ERASED_TEXT,
    LEGACY_MARK,
    is_sealed,
    named_subjects,
    open_payload,
    personal_values,
    plan,
    seal_payload,
    sealed_subjects,
)
from tests.unit.test_event_catalog import VALID

pytestmark = pytest.mark.unit

PERSONAL = [cls for cls in catalog_events() if plan(cls.type_name())]


def _with_markers(type_name: str) -> tuple[dict[str, Any], list[str]]:
    """A valid payload of ``type_name`` with a unique marker in every personal field, and the markers."""
    cls = event_class(type_name)
    data = cls.model_validate(VALID[type_name]).model_dump(mode="json")
    if type_name == "RequestReviewed":
        data["approved"] = False
    markers: list[str] = []
    for leaf in plan(type_name):
        slots = _slots(data, leaf.path)
        assert slots, f"{type_name}.{'.'.join(leaf.path)}: the sample has no such field"
        for container, name in slots:
            marker = f"marker-{type_name}-{'.'.join(leaf.path)}-{len(markers)}".replace("*", "n")
            markers.append(marker)
            if leaf.placeholder == ERASED_EMAIL:
                container[name] = f"{marker}@example.edu"
            elif name == "demographics":
                container[name] = {"consented": True, "gender": marker}
            else:
                container[name] = marker
    cls.model_validate(data)  # still a valid event: the markers stand where real data would
    return data, markers


def _slots(data: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], str]]:
    head, rest = path[0], path[1:]
    if not rest:
        return [(data, head)] if head in data else []
    if rest[0] == "*":
        return [slot for item in data.get(head) or [] for slot in _slots(item, rest[1:])]
    return _slots(data[head], rest) if isinstance(data.get(head), dict) else []


def _keys(*people: str) -> dict[str, bytes]:
    return {p: AESGCM.generate_key(bit_length=256) for p in people}


def test_the_catalog_marks_what_the_issue_names_personal() -> None:
    paths = {(cls.type_name(), ".".join(leaf.path)) for cls in PERSONAL for leaf in plan(cls.type_name())}
    assert {
        ("RequestRanked", "biography"),
        ("RequestRanked", "motivation"),
        ("RequestReviewed", "decline_reason"),
        ("MentorResponded", "reason"),
        ("AgreementSigned", "goals.*.text"),
        ("AgreementSigned", "goals.*.measure"),
        ("GoalSet", "goal.text"),
        ("ProfileUpdated", "changes.*.old"),
        ("ProfileUpdated", "changes.*.new"),
        ("MenteeRegistered", "demographics"),
        ("NotificationFailed", "error"),
    } <= paths


@pytest.mark.parametrize("cls", PERSONAL, ids=lambda cls: cls.type_name())
def test_every_personal_field_is_sealed_and_opens_again(cls) -> None:
    type_name = cls.type_name()
    data, markers = _with_markers(type_name)
    subjects = ["p-about"]
    keys = _keys(*subjects)
    before = json.loads(json.dumps(data))

    sealed = seal_payload(type_name, data, subjects, keys)

    assert data == before, "sealing changed the payload it was given (it seals a copy)"

    text = json.dumps(sealed)
    assert not [m for m in markers if m in text], "a personal value is readable in the sealed form"
    assert all(is_sealed(value) for value in personal_values(type_name, sealed))
    assert sealed_subjects(type_name, sealed, "stream-1") == subjects
    assert open_payload(type_name, sealed, keys, "stream-1") == data


@pytest.mark.parametrize("cls", PERSONAL, ids=lambda cls: cls.type_name())
def test_without_the_key_every_personal_field_opens_to_a_placeholder_that_fits(cls) -> None:
    type_name = cls.type_name()
    data, markers = _with_markers(type_name)
    sealed = seal_payload(type_name, data, ["p-about"], _keys("p-about"))

    erased = open_payload(type_name, sealed, {}, "stream-1")

    assert not [m for m in markers if m in json.dumps(erased)]
    cls.model_validate(erased)  # aggregates rebuild and consumers decode: never an error
    assert not any(is_sealed(value) for value in personal_values(type_name, erased))


@pytest.mark.parametrize("cls", PERSONAL, ids=lambda cls: cls.type_name())
def test_an_erased_persons_data_is_stored_as_placeholders_never_plain(cls) -> None:
    type_name = cls.type_name()
    data, markers = _with_markers(type_name)

    stored = seal_payload(type_name, data, ["p-erased"], {"p-erased": None})

    assert not [m for m in markers if m in json.dumps(stored)]
    cls.model_validate(stored)


def test_every_personal_event_knows_whose_key_seals_it() -> None:
    """An event naming nobody itself takes its stream's data subjects: its owner has an event that names them."""
    declaring = {cls.owner for cls in catalog_events() if cls.data_subjects}
    for cls in PERSONAL:
        if cls.data_subjects:
            assert named_subjects(cls, VALID[cls.type_name()]), cls.type_name()
        else:
            assert cls.owner in declaring, f"{cls.type_name()}: no event of {cls.owner} names its data subjects"


def test_a_value_about_several_people_is_unreadable_once_any_of_them_is_erased() -> None:
    data, markers = _with_markers("AgreementSigned")
    keys = _keys("mentee-a", "mentee-b")
    sealed = seal_payload("AgreementSigned", data, ["mentee-a", "mentee-b"], keys)

    assert open_payload("AgreementSigned", sealed, keys, "rel-1") == data
    one_erased = open_payload("AgreementSigned", sealed, {"mentee-a": keys["mentee-a"]}, "rel-1")
    assert not [m for m in markers if m in json.dumps(one_erased)]
    assert one_erased["goals"][0]["text"] == ERASED_TEXT


def test_a_wrong_key_gives_the_placeholder_not_an_error() -> None:
    data, _ = _with_markers("RequestRanked")
    sealed = seal_payload("RequestRanked", data, ["p2"], _keys("p2"))

    opened = open_payload("RequestRanked", sealed, _keys("p2"), "r1")

    assert opened["biography"] == ERASED_TEXT


def test_profile_changes_open_to_the_changed_fields_own_placeholder() -> None:
    data = {
        "participant_id": "p1",
        "changes": [
            {"field": "email", "old": "a@example.edu", "new": "b@example.edu"},
            {"field": "profile.interests", "old": ["x"], "new": ["y"]},
            {"field": "demographics.consented", "old": False, "new": True},
            {"field": "employee_id", "old": None, "new": "E1"},
        ],
        "source": "participant",
    }
    sealed = seal_payload("ProfileUpdated", data, ["p1"], _keys("p1"))

    erased = open_payload("ProfileUpdated", sealed, {}, "p1")

    assert [(c["old"], c["new"]) for c in erased["changes"]] == [
        (ERASED_EMAIL, ERASED_EMAIL),
        ([], []),
        (False, False),
        (None, None),
    ]


def test_profiles_earlier_sealed_form_still_opens() -> None:
    """Before the shared codec profiles sealed ``{"$pii": token}`` with the participant's key (aad: their id)."""
    import base64
    import os

    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    token = base64.b64encode(nonce + AESGCM(key).encrypt(nonce, json.dumps("Ada").encode(), b"p1")).decode()
    data = dict(VALID["MenteeRegistered"], name={LEGACY_MARK: token})

    assert sealed_subjects("MenteeRegistered", data, "p1") == ["p1"]
    assert open_payload("MenteeRegistered", data, {"p1": key}, "p1")["name"] == "Ada"
    assert open_payload("MenteeRegistered", data, {}, "p1")["name"] == ERASED_TEXT


def test_a_payload_without_sealed_values_passes_unchanged() -> None:
    data = VALID["RequestRanked"]
    assert open_payload("RequestRanked", data, {}, "r1") is data
    assert seal_payload("MatchApproved", VALID["MatchApproved"], ["p2"], {}) is VALID["MatchApproved"]


@pytest.mark.parametrize(
    "subjects",
    [["W0000001"], ["é-person"], ['quo"te'], ["back\\slash"], ["del\x7f"], ["tab\t"], [" spaced "], ["a", "b"]],
)
def test_the_associated_data_is_json_dumps_bytes_for_every_id(subjects: list[str]) -> None:
    """A value sealed before the shortcut opens after it: the associated data is byte for byte json.dumps'."""
    from shared.sealing import _aad, open_value, seal_value

    assert _aad(subjects) == json.dumps(subjects, separators=(",", ":")).encode()
    if len(subjects) == 1:
        key = AESGCM.generate_key(bit_length=256)
        sealed = seal_value({"name": "Ada"}, subjects, key)
        assert open_value(sealed, {subjects[0]: key}, subjects[0], None) == {"name": "Ada"}


def test_a_bulk_seal_gives_every_value_its_own_nonce_and_each_opens_with_its_persons_key() -> None:
    """``Sealing.seal_many`` takes the batch's nonces from one read of the random source: none is used twice,
    past the first read's end too, and each value opens (and only) with its own person's key."""
    import asyncio
    import base64

    from shared.sealing import MARK, Sealing

    people = [f"W{n:07}" for n in range(300)]  # 300 payloads of 10 sealed values: more than the first read holds
    keys = _keys(*people)

    class Conn:
        async def fetch(self, query: str, ids: list[str], *fresh: object) -> list[dict[str, Any]]:
            return [{"participant_id": p, "data_key": keys[p]} for p in ids]

    def payload(person: str) -> dict[str, Any]:
        changes = [{"field": f, "old": None, "new": f"{f} of {person}"} for f in "abcdefghij"]
        return {"participant_id": person, "changes": changes, "source": "hr_feed"}

    items = [(p, "ProfileUpdated", payload(p), []) for p in people]
    sealed = asyncio.run(Sealing().seal_many(Conn(), items))

    nonces = [base64.b64decode(c["new"][MARK])[:12] for s in sealed for c in s["changes"]]
    assert len(nonces) == 10 * len(people) == len(set(nonces))
    for person, data in zip(people, sealed, strict=True):
        assert open_payload("ProfileUpdated", data, keys, person) == payload(person)
        other = people[(people.index(person) + 1) % len(people)]
        assert open_payload("ProfileUpdated", data, {person: keys[other]}, person)["changes"][0]["new"] is None
