"""Projections dispatch on catalog classes and read an older payload through the catalog's upcasters."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

import pytest

from services.analytics.projecting.projections import activity, catalog, program, timeline, workforce
from services.analytics.projecting.projections.program import rules as program_rules
from shared.events import Event, base
from shared.events.matching import RequestRanked
from shared.events.relationships import MeetingLogged
from tests.unit.analytics.events import T0, record

pytestmark = pytest.mark.unit


def test_every_rule_is_keyed_by_a_published_event() -> None:
    for rules in (timeline.RULES, program_rules.RULES, activity.RULES, workforce.RULES):
        assert rules and all(catalog.PUBLISHED[name] is event for name, (event, _, _) in rules.items())
    assert set(timeline.RULES) == set(catalog.PUBLISHED)  # the timeline reads every published event


def test_an_event_outside_the_published_catalog_is_refused_at_import() -> None:
    class _Abstract(Event):  # not registered at all
        pass

    class DefinedElsewhereForDispatchTest(Event):  # registered, but not part of the published contract
        owner: ClassVar[str] = "relationships"

    try:
        for event in (_Abstract, DefinedElsewhereForDispatchTest):
            with pytest.raises(LookupError, match="not an event of the published catalog"):
                catalog.by_type({event: None})
    finally:
        base._registry.pop("DefinedElsewhereForDispatchTest", None)


@pytest.fixture
def ranked_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if ``RequestRanked`` had been changed: version 1 called the mentee ``mentee``. The projections
    resolve the current versions at import, so their rules are resolved again, as a new release would."""

    def v1_to_v2(data: dict) -> dict:
        data["mentee_id"] = data.pop("mentee")
        return data

    monkeypatch.setattr(RequestRanked, "schema_version", 2)
    monkeypatch.setattr(RequestRanked, "upcasters", {1: v1_to_v2})
    for module in (timeline, program):
        again = catalog.by_type({event: rule for event, _, rule in module.RULES.values()})
        monkeypatch.setattr(module, "RULES", again)


V1 = {"request_id": "r1", "mentee": "m1", "biography": "bio", "motivation": "grow", "ranked_mentor_ids": ["b"]}


@pytest.mark.usefixtures("ranked_v2")
def test_an_old_version_is_upcast_before_any_rule_reads_it() -> None:
    old = record(type_name="RequestRanked", data=dict(V1), source="/services/matching", schemaversion=1, at=T0)
    facts = program.prepare([old])
    program.fold(facts)
    assert facts.tables["requests"].rows["r1"]["mentee_id"] == "m1"
    entry = timeline.entry_for(old)
    assert entry.parties == ("m1",) and entry.summary["mentee_id"] == "m1" and "mentee" not in entry.summary
    assert old.data == V1  # the envelope's own payload is left as it arrived


@pytest.mark.usefixtures("ranked_v2")
def test_the_current_version_and_a_newer_one_are_read_as_they_are() -> None:
    current = {**V1, "mentee_id": "m1"}
    del current["mentee"]
    for version in (2, 3):  # 3: newer than this code knows; unknown fields would be ignored
        ranked = record(type_name="RequestRanked", data=current, source="/services/matching", schemaversion=version)
        facts = program.prepare([ranked])
        program.fold(facts)
        assert facts.tables["requests"].rows["r1"]["mentee_id"] == "m1"


def test_a_current_payload_is_used_as_decoded() -> None:
    held = MeetingLogged(
        relationship_id="r", meeting_id="x", held_on=date(2026, 1, 1), duration_minutes=5, format="video"
    )
    meeting = record(held)
    assert timeline.entry_for(meeting).summary is meeting.data  # no copy, no validation
