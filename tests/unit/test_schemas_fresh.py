from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.events.catalog import OWNERS, catalog_events, topic_of
from shared.schemas import asyncapi_document, render_schemas, stale_schemas

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_checked_in_schemas_match_the_code() -> None:
    stale = stale_schemas(REPO_ROOT)
    assert not stale, f"schemas/ is out of date ({', '.join(stale)}); run `mentorship schemas` and commit the result"


def test_asyncapi_names_every_topic() -> None:
    document = asyncapi_document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {topic_of(owner) for owner in OWNERS}
    assert {"profiles.events", "matching.events", "relationships.events", "notifications.events", "hr.events"} <= (
        addresses
    )


def test_asyncapi_describes_every_event_envelope() -> None:
    schemas = asyncapi_document()["components"]["schemas"]
    for cls in catalog_events():
        message = schemas[f"{cls.type_name()}Message"]
        assert message["properties"]["type"]["const"] == cls.type_name()
        assert message["properties"]["data"] == {"$ref": f"#/components/schemas/{cls.type_name()}"}


def test_rendering_is_deterministic_and_annotated() -> None:
    first, second = render_schemas(), render_schemas()
    assert first == second
    schema = json.loads(first["schemas/events/RequestRanked.v2.json"])
    assert schema["title"] == "RequestRanked"
    assert schema["x-owner"] == "matching"
    assert schema["x-schema-version"] == 2
