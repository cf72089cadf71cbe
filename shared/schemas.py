"""JSON Schemas and the AsyncAPI document, generated from the payload models.

``schemas/`` is checked in so that reviewers see contract changes in a diff;
``stale_schemas`` lets a test fail when the code and the files disagree.

Every version of an event keeps its file: ``schemas/events/<Type>.v<N>.json`` for each ``N`` up to the
class's ``schema_version``.  The current version's file is generated from the model; an older version's
file is kept exactly as it was committed when that version was current (it is the record of that version:
the code no longer holds its model), and a missing one is an error (``missing_versions``).  The AsyncAPI
document describes every version on the topic: ``<Type>Message`` is the current envelope,
``<Type>Message.v<N>`` an older one (its ``data`` the kept schema), and the topic's payload lists
``<Type>Message.versions``, a ``oneOf`` of them told apart by ``schemaversion``.
"""

from __future__ import annotations

import copy
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
REPO_ROOT = Path(__file__).resolve().parents[1]
"""Where ``schemas/`` is checked in: the older versions' files are read from there unless a root is given."""


class MissingVersionRecord(LookupError):
    """An event's older version has no schema file: its record cannot be generated again from the code."""


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def event_schema(cls: type[Event]) -> dict[str, Any]:
    schema = cls.model_json_schema()
    schema["title"] = cls.type_name()
    schema["x-owner"] = cls.owner
    schema["x-topic"] = topic_of(cls.owner)
    schema["x-schema-version"] = cls.schema_version
    return schema


def event_schema_path(cls: type[Event], version: int | None = None) -> str:
    """The file of ``version`` of the event (default: its current version)."""
    return f"{EVENTS_DIR}/{cls.type_name()}.v{version or cls.schema_version}.json"


def _catalog() -> list[type[Event]]:
    return [cls for classes in events_by_topic().values() for cls in classes]


def missing_versions(root: Path = REPO_ROOT) -> list[str]:
    """The files of older versions (below each event's current one) that are not under ``root``."""
    return [
        event_schema_path(cls, version)
        for cls in _catalog()
        for version in range(1, cls.schema_version)
        if not (root / event_schema_path(cls, version)).exists()
    ]


def older_versions(root: Path = REPO_ROOT) -> dict[str, str]:
    """The kept files of every older version found under ``root``, by path, as committed."""
    kept = {}
    for cls in _catalog():
        for version in range(1, cls.schema_version):
            path = root / event_schema_path(cls, version)
            if path.exists():
                kept[event_schema_path(cls, version)] = path.read_text(encoding="utf-8")
    return kept


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


def asyncapi_document(root: Path = REPO_ROOT) -> dict[str, Any]:
    spec = AsyncAPI(
        asyncapi_broker(),
        title="Mentoring program events",
        version=API_VERSION,
        description="Every topic of the mentoring-program platform, generated from shared.events. Records are "
        "CloudEvents 1.0 in structured mode (Kafka binding): the value is the whole event as JSON, the "
        "content-type header application/cloudevents+json, the key the subject.",
        schema_version="3.0.0",
    )
    return with_older_versions(conform(spec.to_specification().to_jsonable()), older_versions(root))


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


def with_older_versions(document: dict[str, Any], kept: dict[str, str]) -> dict[str, Any]:
    """Every older version of an event beside its current one (``kept``: the older versions' files by path).

    For an event with older versions: ``<Type>.v<N>`` (the kept payload schema, its ``$defs`` as
    ``<Type>.v<N>.<Def>``), ``<Type>Message.v<N>`` (the envelope with ``schemaversion`` N carrying it) and
    ``<Type>Message.versions``, a ``oneOf`` of the current message and the older ones, which the topic's
    payload lists instead of ``<Type>Message``."""
    schemas = document.get("components", {}).get("schemas", {})
    by_type: dict[str, list[int]] = {}
    for path, text in sorted(kept.items()):
        type_name, version = Path(path).name.removesuffix(".json").rsplit(".v", 1)
        by_type.setdefault(type_name, []).append(int(version))
        old = json.loads(text)
        name = f"{type_name}.v{version}"
        defs = old.pop("$defs", {})
        renamed = {f"#/$defs/{d}": f"#/components/schemas/{name}.{d}" for d in defs}
        schemas[name] = _replace_refs(old, renamed) | {"title": name}
        for d, definition in defs.items():
            schemas[f"{name}.{d}"] = _replace_refs(definition, renamed) | {"title": f"{name}.{d}"}
        message = copy.deepcopy(schemas[f"{type_name}Message"])
        message["title"] = f"{type_name}Message.v{version}"
        message["description"] = f"Envelope carrying a {type_name} event of schema version {version} (older)."
        message["properties"]["schemaversion"] = {"const": int(version), "title": "Schemaversion", "type": "integer"}
        message["properties"]["data"] = {"$ref": f"#/components/schemas/{name}"}
        schemas[f"{type_name}Message.v{version}"] = message
    replaced = {}
    for type_name, versions in by_type.items():
        current = schemas[f"{type_name}Message"]["properties"]["schemaversion"]["const"]
        schemas[f"{type_name}Message.versions"] = {
            "title": f"{type_name}Message.versions",
            "description": f"A {type_name} event of any version the topic holds (current: {current}); "
            "`schemaversion` says which. Readers upcast an older version to the current one.",
            "oneOf": [{"$ref": f"#/components/schemas/{type_name}Message"}]
            + [{"$ref": f"#/components/schemas/{type_name}Message.v{v}"} for v in sorted(versions, reverse=True)],
        }
        replaced[f"#/components/schemas/{type_name}Message"] = f"#/components/schemas/{type_name}Message.versions"
    for name, schema in schemas.items():
        if name.endswith(".Message.Payload"):
            schemas[name] = _replace_refs(schema, replaced)
    if "components" in document:
        document["components"]["schemas"] = dict(sorted(schemas.items()))
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


def render_schemas(root: Path = REPO_ROOT) -> dict[str, str]:
    """Every file of ``schemas/``: the current versions generated, the older ones as kept under ``root``."""
    files = {f"{SCHEMA_DIR}/envelope.json": _dump(Envelope.model_json_schema())}
    for cls in _catalog():
        files[event_schema_path(cls)] = _dump(event_schema(cls))
    files |= older_versions(root)
    files[f"{SCHEMA_DIR}/asyncapi.json"] = _dump(asyncapi_document(root))
    return dict(sorted(files.items()))


def _checked_in(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in (root / EVENTS_DIR).glob("*.json")}


def write_schemas(root: Path) -> list[Path]:
    """Writes the current versions and the document; an older version's file is never written (it is kept as
    committed), and one that is missing is ``MissingVersionRecord`` (restore it from git history)."""
    missing = missing_versions(root)
    if missing:
        raise MissingVersionRecord(f"older event versions have no schema file: {', '.join(missing)}")
    rendered = render_schemas(root)
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
    """Paths under ``root`` that are missing, out of date, or no longer generated (an older version's missing
    file among them)."""
    rendered = render_schemas(root)
    stale = set(_checked_in(root) - rendered.keys()) | set(missing_versions(root))
    for relative, text in rendered.items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.add(relative)
    return sorted(stale)
