"""Every changed event reads its older versions: a walk over the catalog, checked on the committed v1 history.

For every class with ``schema_version > 1``: an upcaster for every version from 1 below the current one, and
every payload of that type in ``tests/fixtures/history_v1.jsonl.gz`` (recorded with the catalog's first
versions) upcasts and validates as the current model (its sealed personal fields read as a consumer without
keys reads them: the placeholders).  A newer version than the catalog's is refused by name, never guessed at.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

import pytest

from shared.events.base import Event, UnknownEventVersion, decode
from shared.events.catalog import catalog_events
from shared.sealing import open_payload
from tests.fixtures.history import history_v1

pytestmark = pytest.mark.unit


def version_gaps(cls: type[Event]) -> list[int]:
    """The versions below the current one that have no upcaster."""
    return [version for version in range(1, cls.schema_version) if version not in cls.upcasters]


def unreadable(cls: type[Event], payloads: list[tuple[int, str, dict[str, Any]]]) -> list[str]:
    """The payloads (version, subject, data) that do not upcast and validate as ``cls``, with the reason."""
    failures = []
    for version, subject, data in payloads:
        try:
            cls.from_stored(open_payload(cls.type_name(), data, {}, subject), version)
        except Exception as exc:
            failures.append(f"{cls.type_name()} v{version} of {subject}: {exc!r}"[:500])
    return failures


def v1_payloads() -> dict[str, list[tuple[int, str, dict[str, Any]]]]:
    found: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    for record in history_v1():
        envelope = record["value"]
        found[envelope["type"]].append((envelope["schemaversion"], envelope["subject"], envelope["data"]))
    return found


NEW_SINCE_V1 = {
    # issue 17: programs, enrolment, groups and peer circles
    "ProgramDefined",
    "ProgramChanged",
    "ParticipantEnrolled",
    "ParticipantUnenrolled",
    "GroupFormed",
    "MemberLeft",
    # issue 18: scheduled meetings, nudges and inactivity
    "MeetingProposed",
    "MeetingAccepted",
    "MeetingRescheduled",
    "MeetingCancelled",
    "MeetingHeld",
    "MeetingNudgeDue",
    "ReengagementNudged",
    "RelationshipInactive",
    # issue 18: surveys throughout
    "SurveyOpened",
    "SurveyAnswered",
}
"""Event types added to the catalog after the v1 history was recorded; every other type is in it."""


def test_the_v1_history_holds_every_event_type_of_its_day() -> None:
    changing = {"RequestRanked", "MatchApproved", "RequestUnmatched", "BulkMatchProposed", "RelationshipStarted"}
    assert changing <= set(v1_payloads())
    today = {cls.type_name() for cls in catalog_events()}
    assert set(v1_payloads()) == today - NEW_SINCE_V1  # every type of its day
    assert today >= NEW_SINCE_V1
    assert all(version == 1 for payloads in v1_payloads().values() for version, _, _ in payloads)


def test_every_changed_event_upcasts_its_recorded_v1_payloads() -> None:
    """Walks the catalog: every class above version 1 (none before issue 17's bumps merge; then each of them)."""
    recorded, failures = v1_payloads(), []
    for cls in (c for c in catalog_events() if c.schema_version > 1):
        if gaps := version_gaps(cls):
            failures.append(f"{cls.type_name()} has no upcaster from version(s) {gaps}")
        if not recorded[cls.type_name()]:
            failures.append(f"the v1 history holds no {cls.type_name()}")
        failures += unreadable(cls, recorded[cls.type_name()])
    assert failures == []


def test_every_recorded_payload_reads_as_the_current_model() -> None:
    """Not only the changed types: the whole v1 history decodes with today's catalog."""
    by_name = {cls.type_name(): cls for cls in catalog_events()}
    failures = [f for name, payloads in v1_payloads().items() for f in unreadable(by_name[name], payloads)]
    assert failures == []


class _Twice(Event):
    """A test-only event at version 3 whose 1 → 2 upcaster is missing."""

    owner: ClassVar[str] = "matching"
    schema_version: ClassVar[int] = 3
    upcasters: ClassVar[dict] = {2: lambda data: {**data, "program_id": data.get("program_id", "default")}}
    request_id: str
    program_id: str


def test_the_checks_catch_a_missing_upcaster_and_a_payload_that_does_not_fit() -> None:
    assert version_gaps(_Twice) == [1]
    with_both = type("_Twice2", (_Twice,), {"upcasters": {1: lambda data: data, **_Twice.upcasters}})
    assert version_gaps(with_both) == []
    assert unreadable(with_both, [(1, "r-1", {"request_id": "r-1"})]) == []
    assert unreadable(with_both, [(3, "r-2", {"request_id": "r-2"})]) != []  # version 3 without program_id


def test_a_newer_version_than_the_catalog_knows_is_refused_naming_both_versions() -> None:
    with pytest.raises(UnknownEventVersion) as refused:
        decode("MatchApproved", {}, 99)
    assert str(refused.value) == (
        f"MatchApproved has schema version 99, newer than this reader's catalog (version {refused.value.known})"
    )
