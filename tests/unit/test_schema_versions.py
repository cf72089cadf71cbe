"""Every version of an event keeps its schema file, and the AsyncAPI document lists every version.

The version bump is simulated on a copy of ``schemas/``: ``MatchApproved`` and ``BulkMatchProposed`` (which
has ``$defs``) raised to version 2 for the test only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentorship.cli import build
from shared.events.matching import BulkMatchProposed, MatchApproved
from shared.schemas import (
    MissingVersionRecord,
    asyncapi_document,
    missing_versions,
    render_schemas,
    stale_schemas,
    write_schemas,
)

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_version_below_the_current_one_has_its_file() -> None:
    assert not missing_versions(REPO_ROOT), "restore the older versions' files from git history"


@pytest.fixture
def bumped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's schemas/, as committed, and two events raised to version 2."""
    shutil.copytree(REPO_ROOT / "schemas", tmp_path / "schemas")
    for cls in (MatchApproved, BulkMatchProposed):
        monkeypatch.setattr(cls, "schema_version", 2)
        monkeypatch.setattr(cls, "upcasters", {1: lambda data: {**data, "program_id": "default"}})
    return tmp_path


def test_a_bump_keeps_the_older_file_as_committed_and_writes_the_new_one(bumped: Path) -> None:
    v1 = bumped / "schemas/events/MatchApproved.v1.json"
    committed = json.loads(v1.read_text()) | {"description": "as it was when version 1 was current"}
    v1.write_text(json.dumps(committed, indent=2, sort_keys=True) + "\n")  # the record, not what the code says now
    kept = v1.read_text()
    assert stale_schemas(bumped) == [
        "schemas/asyncapi.json",
        "schemas/events/BulkMatchProposed.v2.json",
        "schemas/events/MatchApproved.v2.json",
    ]
    write_schemas(bumped)
    assert v1.read_text() == kept
    assert json.loads((bumped / "schemas/events/MatchApproved.v2.json").read_text())["x-schema-version"] == 2
    assert (bumped / "schemas/events/BulkMatchProposed.v1.json").exists()
    assert stale_schemas(bumped) == []


def test_a_missing_older_version_is_stale_and_cannot_be_generated(bumped: Path) -> None:
    (bumped / "schemas/events/MatchApproved.v1.json").unlink()
    assert missing_versions(bumped) == ["schemas/events/MatchApproved.v1.json"]
    assert "schemas/events/MatchApproved.v1.json" in stale_schemas(bumped)
    with pytest.raises(MissingVersionRecord, match=r"MatchApproved\.v1\.json"):
        write_schemas(bumped)


def test_asyncapi_lists_both_versions_told_apart_by_schemaversion(bumped: Path) -> None:
    schemas = asyncapi_document(bumped)["components"]["schemas"]
    versions = schemas["MatchApprovedMessage.versions"]
    assert versions["oneOf"] == [
        {"$ref": "#/components/schemas/MatchApprovedMessage"},
        {"$ref": "#/components/schemas/MatchApprovedMessage.v1"},
    ]
    assert schemas["MatchApprovedMessage"]["properties"]["schemaversion"]["const"] == 2
    old = schemas["MatchApprovedMessage.v1"]["properties"]
    assert old["schemaversion"]["const"] == 1 and old["type"]["const"] == "MatchApproved"
    assert old["data"] == {"$ref": "#/components/schemas/MatchApproved.v1"}
    assert "program_id" not in schemas["MatchApproved.v1"]["properties"]
    payload = [item["$ref"] for item in schemas["matching.events.Message.Payload"]["oneOf"]]
    assert "#/components/schemas/MatchApprovedMessage.versions" in payload
    assert "#/components/schemas/MatchApprovedMessage" not in payload
    # an older schema's $defs become components of their own, and its references follow them
    summary = schemas["BulkMatchProposed.v1"]["properties"]["summary"]
    assert summary == {"$ref": "#/components/schemas/BulkMatchProposed.v1.BulkMatchSummary"}
    assert "BulkMatchProposed.v1.BulkMatchSummary" in schemas
    assert "$defs" not in json.dumps(schemas)


def test_without_a_bump_the_document_is_unchanged(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "schemas", tmp_path / "schemas")
    assert render_schemas(tmp_path) == render_schemas(REPO_ROOT)
    assert not any(name.endswith(".versions") for name in asyncapi_document(tmp_path)["components"]["schemas"])


def test_the_command_takes_a_deleted_older_version_back_from_git_history(bumped: Path) -> None:
    """A branch that raised a version with the old generator deleted the older file: after the merge,
    ``mentorship schemas`` restores it as it was last committed, then writes the rest."""

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(bumped), *args], check=True, capture_output=True)

    (bumped / "pyproject.toml").write_text("")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.edu", "commit", "-qm", "version 1")
    committed = (bumped / "schemas/events/MatchApproved.v1.json").read_text()
    (bumped / "schemas/events/MatchApproved.v1.json").unlink()  # deleted, not committed yet (a merge under way)
    assert CliRunner().invoke(build("schemas"), ["schemas", "--root", str(bumped)]).exit_code == 0
    assert (bumped / "schemas/events/MatchApproved.v1.json").read_text() == committed
    (bumped / "schemas/events/MatchApproved.v1.json").unlink()
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.edu", "commit", "-qm", "the bump deleted version 1")
    result = CliRunner().invoke(build("schemas"), ["schemas", "--root", str(bumped)])
    assert result.exit_code == 0, result.output
    assert "restored from git history: schemas/events/MatchApproved.v1.json" in result.output
    assert (bumped / "schemas/events/MatchApproved.v1.json").read_text() == committed
    assert stale_schemas(bumped) == []


def test_without_history_the_command_fails_naming_the_file(bumped: Path) -> None:
    (bumped / "pyproject.toml").write_text("")
    (bumped / "schemas/events/MatchApproved.v1.json").unlink()
    result = CliRunner().invoke(build("schemas"), ["schemas", "--root", str(bumped)])
    assert result.exit_code == 1 and "MatchApproved.v1.json" in result.output
