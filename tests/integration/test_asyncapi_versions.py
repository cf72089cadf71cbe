"""The AsyncAPI document with two versions of changed events passes the AsyncAPI parser and the name rule.

The bump is simulated on a copy of ``schemas/`` (as ``tests/unit/test_schema_versions.py`` does): the parser
must accept ``<Type>Message.versions`` (a ``oneOf`` told apart by ``schemaversion``), the older messages, and the
older payload schemas with their ``$defs`` moved under ``components``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.events.matching import BulkMatchProposed, MatchApproved, RequestRanked
from shared.events.relationships import RelationshipStarted
from shared.schemas import write_schemas

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_a_document_with_older_versions_passes_the_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    for cls in (MatchApproved, BulkMatchProposed, RequestRanked, RelationshipStarted):
        monkeypatch.setattr(cls, "schema_version", 2)
        monkeypatch.setattr(cls, "upcasters", {1: lambda data: {**data, "program_id": "default"}})
    write_schemas(tmp_path)
    document = tmp_path / "schemas" / "asyncapi.json"
    assert "RelationshipStartedMessage.versions" in json.loads(document.read_text())["components"]["schemas"]
    run = subprocess.run(
        ["node", str(ROOT / "tests" / "integration" / "asyncapi_check.cjs"), str(document)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"errors": [], "warnings": []}
