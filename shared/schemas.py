"""JSON Schemas and the AsyncAPI document, generated from the payload models.

``schemas/`` is checked in so that reviewers see contract changes in a diff;
``stale_schemas`` lets a test fail when the code and the files disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import Field, create_model

from shared.bus import HR_TOPIC
from shared.envelope import CONTENT_TYPE, Envelope
from shared.events.base import Event
from shared.events.catalog import events_by_topic, topic_of

SCHEMA_DIR = "schemas"
EVENTS_DIR = f"{SCHEMA_DIR}/events"
API_VERSION = "1.0.0"


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def event_schema(cls: type[Event]) -> dict[str, Any]:
    schema = cls.model_json_schema()
    schema["title"] = cls.type_name()
    schema["x-owner"] = cls.owner
    schema["x-topic"] = topic_of(cls.owner)
    schema["x-schema-version"] = cls.schema_version
    return schema


def event_schema_path(cls: type[Event]) -> str:
    return f"{EVENTS_DIR}/{cls.type_name()}.v{cls.schema_version}.json"


def message_model(cls: type[Event]) -> type[Envelope]:
    """The envelope as it travels with this event inside: ``type`` and ``data`` pinned down."""
    name = cls.type_name()
    return create_model(
        f"{name}Message",
        __base__=Envelope,
        __doc__=cls.__doc__ or f"Envelope carrying a {name} event.",
        type=(Literal[name], ...),
        schemaversion=(Literal[cls.schema_version], ...),
        data=(cls, ...),
    )


def asyncapi_broker() -> KafkaBroker:
    """A broker that is never connected: one publisher per topic, for the specification only."""
    broker = KafkaBroker("kafka:9092", description="Kafka cluster; key = aggregate id, retention forever")
    for topic, classes in events_by_topic().items():
        messages = tuple(message_model(cls) for cls in classes)
        names = ", ".join(cls.type_name() for cls in classes)
        broker.publisher(
            topic,
            title=topic,
            description=f"CloudEvents envelopes (JSON), keyed by subject, carrying: {names}",
            schema=Annotated[Union[messages], Field(discriminator="type")],  # noqa: UP007
        )
    return broker


def asyncapi_document() -> dict[str, Any]:
    spec = AsyncAPI(
        asyncapi_broker(),
        title="Mentoring program events",
        version=API_VERSION,
        description="Every topic of the mentoring-program platform, generated from shared.events. Records are "
        "CloudEvents 1.0 in structured mode (Kafka binding): the value is the whole event as JSON, the "
        "content-type header application/cloudevents+json, the key the subject.",
        schema_version="3.0.0",
    )
    return conform(spec.to_specification().to_jsonable())


def conform(document: dict[str, Any]) -> dict[str, Any]:
    """What FastStream's generator gets wrong for this platform, put right:

    - component names: ``hr.events:Message`` → ``hr.events.Message`` (AsyncAPI 3.0 names match
      ``^[\\w\\d\\.\\-_]+$``; objects under other names are never validated), every ``$ref`` with them;
    - the correlation id travels in the body (the ``correlationid`` extension), not in a header;
    - the content type of every record is ``application/cloudevents+json``;
    - ``hr.events`` is received by the platform (profiles and matching consume it); the services send the rest.
    """
    renamed: dict[str, str] = {}
    components = document.get("components", {})
    for section in ("messages", "schemas"):
        named = components.get(section, {})
        for name in list(named):
            if ":" in name:
                new = name.replace(":", ".")
                renamed[f"#/components/{section}/{name}"] = f"#/components/{section}/{new}"
                named[new] = named.pop(name)
                if named[new].get("title") == name:
                    named[new]["title"] = new
        components[section] = dict(sorted(named.items()))
    document = _replace_refs(document, renamed)
    document["defaultContentType"] = CONTENT_TYPE
    for message in document.get("components", {}).get("messages", {}).values():
        message["contentType"] = CONTENT_TYPE
        message["correlationId"] = {
            "description": "correlationid: the id of the request or feed message that started the chain",
            "location": "$message.payload#/correlationid",
        }
    for operation in document.get("operations", {}).values():
        received = operation["channel"]["$ref"] == f"#/channels/{HR_TOPIC}"
        operation["action"] = "receive" if received else "send"
        operation["description"] = (
            "The HR system publishes; profiles and matching consume."
            if received
            else "The owning service publishes, through its outbox relay; other services and analytics consume."
        )
    return document


def _replace_refs(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: renamed.get(value, value) if key == "$ref" else _replace_refs(value, renamed)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_replace_refs(item, renamed) for item in node]
    return node


def render_schemas() -> dict[str, str]:
    files = {f"{SCHEMA_DIR}/envelope.json": _dump(Envelope.model_json_schema())}
    for classes in events_by_topic().values():
        for cls in classes:
            files[event_schema_path(cls)] = _dump(event_schema(cls))
    files[f"{SCHEMA_DIR}/asyncapi.json"] = _dump(asyncapi_document())
    return dict(sorted(files.items()))


def _checked_in(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in (root / EVENTS_DIR).glob("*.json")}


def write_schemas(root: Path) -> list[Path]:
    rendered = render_schemas()
    for stale in _checked_in(root) - rendered.keys():
        (root / stale).unlink()
    written = []
    for relative, text in rendered.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(root: Path) -> list[str]:
    """Paths under ``root`` that are missing, out of date, or no longer generated."""
    rendered = render_schemas()
    stale = set(_checked_in(root) - rendered.keys())
    for relative, text in rendered.items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.add(relative)
    return sorted(stale)
