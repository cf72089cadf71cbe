"""The contracts checked by independent tools: Spectral on every service's OpenAPI document (rules in
``.spectral.yaml``), and the AsyncAPI parser on ``schemas/asyncapi.json`` plus the component-name check
the parser leaves out (``asyncapi_check.cjs``).  Both run through ``node`` from ``node_modules``."""

from __future__ import annotations

import importlib
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from shared.envelope import CONTENT_TYPE
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")


def openapi_of(name: str) -> dict:
    bootstrap = importlib.import_module(f"services.{name}.bootstrap")
    return bootstrap.build_app(
        ServiceSettings(service_name=name, pg_dsn="postgresql://nobody@127.0.0.1/none")
    ).openapi()


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Spectral and the AsyncAPI check, started together (each takes seconds of node start-up and parsing)."""
    folder = tmp_path_factory.mktemp("openapi")
    files = []
    for name in SERVICES:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(openapi_of(name)))
        files.append(str(path))
    spectral = ROOT / "node_modules" / ".bin" / "spectral"
    commands = {
        "spectral": [
            str(spectral),
            "lint",
            "--ruleset",
            str(ROOT / ".spectral.yaml"),
            "--format",
            "json",
            "--quiet",
            *files,
        ],
        "asyncapi": [
            "node",
            str(ROOT / "tests" / "integration" / "asyncapi_check.cjs"),
            str(ROOT / "schemas" / "asyncapi.json"),
        ],
    }
    running = {
        name: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for name, command in commands.items()
    }
    done = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=180)
        done[name] = subprocess.CompletedProcess(commands[name], process.returncode, stdout, stderr)
    return done


def test_spectral_finds_nothing_in_any_services_openapi(checked) -> None:
    run = checked["spectral"]
    assert run.returncode in (0, 1), run.stderr  # 1: something was found, reported below
    found = json.loads(run.stdout or "[]")
    by_rule = Counter((("error", "warning", "info", "hint")[f["severity"]], f["code"]) for f in found)
    print("spectral:", dict(by_rule) or "nothing found")
    assert not found, "\n".join(
        f"{Path(f['source']).name} {f['code']}: {f['message']} at {'/'.join(map(str, f['path']))}" for f in found
    )


@pytest.mark.parametrize("name", SERVICES)
def test_every_operation_has_a_defined_tag_and_a_description(name) -> None:
    """What Spectral checks, said directly, so a failure names the operation."""
    document = openapi_of(name)
    defined = {t["name"] for t in document["tags"] if t.get("description")}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method.upper()} {path} has no description"
            assert operation.get("tags") and set(operation["tags"]) <= defined, f"{method.upper()} {path}"


def test_scim_operations_are_documented_as_they_answer() -> None:
    document = openapi_of("profiles")
    scim = {p: ops for p, ops in document["paths"].items() if p.startswith("/scim/v2")}
    assert {"/scim/v2/Users", "/scim/v2/Groups", "/scim/v2/Schemas", "/scim/v2/.search"} <= scim.keys()
    for path, operations in scim.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, f"{method} {path}"
            assert list(responses["4XX"]["content"]) == ["application/scim+json"]
            for status, response in responses.items():
                assert set(response.get("content", {})) <= {"application/scim+json"}, (method, path, status)


def test_asyncapi_passes_the_parser_and_the_name_rule(checked) -> None:
    run = checked["asyncapi"]
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    print("asyncapi:", {kind: len(items) for kind, items in found.items()})
    assert found == {"errors": [], "warnings": []}


def _envelopes(schemas: dict, schema: dict) -> list[dict]:
    if "oneOf" not in schema:
        return [schema]
    return [e for v in schema["oneOf"] for e in _envelopes(schemas, schemas[v["$ref"].rsplit("/", 1)[1]])]


def test_asyncapi_says_where_the_correlation_id_travels_and_who_sends() -> None:
    document = json.loads((ROOT / "schemas" / "asyncapi.json").read_text())
    assert document["defaultContentType"] == CONTENT_TYPE
    schemas = document["components"]["schemas"]
    for name, message in document["components"]["messages"].items():
        location = message["correlationId"]["location"]
        assert location == "$message.payload#/correlationid", name
        payload = schemas[message["payload"]["$ref"].rsplit("/", 1)[1]]
        for envelope in _envelopes(schemas, payload):  # a changed event's versions are a oneOf of their own
            assert "correlationid" in envelope["required"] and "correlationid" in envelope["properties"], envelope
    actions = {name: operation["action"] for name, operation in document["operations"].items()}
    assert actions == {
        "hr.events": "receive",
        "matching.events": "send",
        "notifications.events": "send",
        "profiles.events": "send",
        "relationships.events": "send",
    }
