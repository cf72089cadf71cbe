"""``mentorship export`` without servers: personal data, pseudonyms, layout, filters, bad records."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mentorship.export import MANIFEST, ExportRequest, OutputRefused
from mentorship.export.history import HistoryWriter
from mentorship.export.output import staged
from mentorship.export.privacy import Pseudonymiser, is_personal, names_a_person, nested_model
from mentorship.export.source import TopicsRead
from shared.envelope import Envelope
from shared.events.catalog import catalog_events
from tests.unit.test_event_catalog import VALID

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
# Every raw person id and personal text below carries one of these markers; none may reach a Parquet file.
PERSON, SECRET = "PERSON-", "SECRET-"
SUBSTITUTIONS = {
    '"p1"': '"PERSON-ada"',
    '"p2"': '"PERSON-bo"',
    '"p3"': '"PERSON-cy"',
    '"d1"': '"PERSON-director"',
    '"E100"': '"PERSON-e100"',
    '"Ada"': '"SECRET-name-ada"',
    '"Bo"': '"SECRET-name-bo"',
    '"ada@example.edu"': '"SECRET-ada@example.edu"',
    '"bo@example.edu"': '"SECRET-bo@example.edu"',
    '"Ada Lovelace"': '"SECRET-legal-name"',
    '"woman"': '"SECRET-gender"',
    '"Cardiologist."': '"SECRET-bio"',
    '"Resident."': '"SECRET-bio-2"',
    '"Research career."': '"SECRET-motivation"',
    '"Full"': '"SECRET-reason"',
    '"Submit a K award"': '"SECRET-goal"',
    '"Submitted"': '"SECRET-measure"',
    '"AI"': '"SECRET-new-value"',
    '"550 mailbox unavailable"': '"SECRET-550 ada@example.edu unavailable"',
}
# Ids that name no person (requests, matches, relationships, runs, goals, meetings, departments, envelopes),
# and a deadline whose name happens to end in "_by".
NOT_PERSONS = {
    "program_id",
    "request_id",
    "match_id",
    "relationship_id",
    "run_id",
    "notification_id",
    "cause_event_id",
    "goal_id",
    "meeting_id",
    "survey_id",
    "department_id",
    "old_department_id",
    "new_department_id",
    "rescinded_event_id",
    "respond_by",
}


def payloads() -> dict[str, dict[str, Any]]:
    text = json.dumps(VALID)
    for raw, replacement in SUBSTITUTIONS.items():
        text = text.replace(raw, replacement)
    data = json.loads(text)
    data["WorkerUpdated"]["worker"]["supervisor_id"] = "PERSON-boss"
    data["RequestReviewed"] = {
        "request_id": "r1",
        "reviewer_id": "PERSON-director",
        "approved": False,
        "decline_reason": "SECRET-decline",
    }
    return data


def envelope(type_name: str, data: dict, at: datetime = T0, sequence: int = 1) -> bytes:
    owner = next((cls.owner for cls in catalog_events() if cls.type_name() == type_name), "future")
    subject = {"profiles": data.get("participant_id"), "hr": data.get("employee_id")}.get(owner) or "aggregate-1"
    return Envelope(
        id=uuid.uuid4(),
        source=f"/services/{owner}",
        type=type_name,
        time=at,
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=sequence,
        schemaversion=1,
        data=data,
    ).to_bytes()


def export(tmp_path: Path, records: list[bytes | None], **options: Any) -> tuple[Path, dict]:
    out = tmp_path / "export"
    request = ExportRequest(out=out, bootstrap="unused", **options)
    with staged(out, force=False) as staging:
        history = HistoryWriter(staging, request)
        for record in records:
            history.add(record)
        manifest = history.finish(TopicsRead())
    return out, manifest


def every_type(tmp_path: Path, **options: Any) -> tuple[Path, dict]:
    return export(tmp_path, [envelope(name, data) for name, data in payloads().items()], **options)


def cells(path: Path) -> list[tuple[str, str]]:
    """(column, value as text) for every cell of every Parquet file under ``path``."""
    found = []
    for file in sorted(path.rglob("*.parquet")):
        for column, values in pq.read_table(file).to_pydict().items():
            found += [(f"{file.parent.parent.name}.{column}", json.dumps(v, default=str)) for v in values]
    return found


def test_pseudonyms_are_stable_within_a_key_and_differ_across_keys() -> None:
    key_a, again_a, key_b = Pseudonymiser("key-a"), Pseudonymiser("key-a"), Pseudonymiser("key-b")
    assert key_a("p1") == again_a("p1") == key_a("p1")
    assert key_a("p1") != key_a("p2")
    assert key_a("p1") != key_b("p1")
    assert Pseudonymiser(None)("p1") != Pseudonymiser(None)("p1")  # no key: a random one per export
    assert len(key_a("p1")) == 32 and int(key_a("p1"), 16) >= 0


def test_every_id_naming_a_person_is_marked_in_the_catalog() -> None:
    """A new ``*_id``/``*_ids``/``*_by`` field must be marked person_id or listed here as naming no person."""
    unmarked = []

    def walk(model: type, where: str) -> None:
        for name, field in model.model_fields.items():
            if (inner := nested_model(field.annotation)) is not None:
                walk(inner, f"{where}.{name}")
            elif name.endswith(("_id", "_ids", "_by")) and not names_a_person(field) and name not in NOT_PERSONS:
                unmarked.append(f"{where}.{name}")

    for cls in catalog_events():
        walk(cls, cls.type_name())
    assert not unmarked


def test_the_catalog_marks_the_personal_fields() -> None:
    marked = {
        f"{cls.type_name()}.{name}"
        for cls in catalog_events()
        for name, f in cls.model_fields.items()
        if is_personal(f)
    }
    assert {
        "MentorRegistered.name",
        "MentorRegistered.email",
        "MentorRegistered.demographics",
        "RequestRanked.biography",
        "RequestRanked.motivation",
        "RequestReviewed.decline_reason",
        "NotificationFailed.error",
    } <= marked


def test_no_personal_data_and_no_raw_person_id_reaches_any_column(tmp_path: Path) -> None:
    out, manifest = every_type(tmp_path)
    assert manifest["events_written"] == len(VALID) and not manifest["skipped"]["invalid_payload"]
    found = cells(out)
    assert len(found) > 300
    leaks = [(column, value) for column, value in found if PERSON in value or SECRET in value]
    assert leaks == []
    raw = (out / MANIFEST).read_text() + "".join(p.as_posix() for p in out.rglob("*"))
    assert PERSON not in raw and SECRET not in raw
    assert manifest["personal_data"]["dropped"]["MentorRegistered"] == [
        "name",
        "email",
        "profile.biography",
        "demographics",
    ]
    assert "worker.legal_name" in manifest["personal_data"]["dropped"]["WorkerHired"]
    assert manifest["personal_data"]["pseudonymised"]["WorkerHired"] == [
        "subject",
        "employee_id",
        "worker.employee_id",
        "worker.supervisor_id",
    ]


def test_one_person_has_one_pseudonym_everywhere_so_joins_still_work(tmp_path: Path) -> None:
    out, _ = every_type(tmp_path, pseudonym_key="k")
    bo = Pseudonymiser("k")("PERSON-bo")

    def table(name: str) -> dict:
        return pq.read_table(next((out / f"type={name}").rglob("*.parquet"))).to_pylist()[0]

    mentee = table("MenteeRegistered")
    assert mentee["participant_id"] == mentee["subject"] == bo
    assert table("RequestRanked")["mentee_id"] == bo
    assert table("RelationshipStarted")["mentee_ids"] == [bo]
    assert table("RelationshipStarted")["subject"] == "aggregate-1"  # a relationship id names no person
    assert table("RequestRanked")["request_id"] == "r1"
    worker = json.loads(table("WorkerUpdated")["worker"])
    assert worker["supervisor_id"] == Pseudonymiser("k")("PERSON-boss") and "legal_name" not in worker
    assert worker["department_name"] == "Medicine"


def test_hive_layout_with_typed_columns(tmp_path: Path) -> None:
    records = [
        envelope("MatchApproved", payloads()["MatchApproved"], T0 + timedelta(days=d), d + 1) for d in (0, 1, 2, 20)
    ]
    out, manifest = export(tmp_path, records, chunk_rows=2)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert files == [
        "type=MatchApproved/program=default/month=2026-01/part-00000.parquet",
        "type=MatchApproved/program=default/month=2026-01/part-00001.parquet",
        "type=MatchApproved/program=default/month=2026-02/part-00000.parquet",
    ]
    assert manifest["by_type"]["MatchApproved"]["months"] == ["2026-01", "2026-02"]
    schema = pq.read_schema(out / files[0])
    assert "type" not in schema.names and "month" not in schema.names  # they are the partition columns
    assert schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert schema.field("choice_rank").type == pa.int64()
    assert schema.field("time_to_match_seconds").type == pa.float64()
    rows = duckdb.sql(
        f"SELECT type, month, count(*) AS n FROM read_parquet('{out}/**/*.parquet', "
        "hive_partitioning = true) GROUP BY ALL ORDER BY month"
    ).fetchall()
    assert rows == [("MatchApproved", "2026-01", 3), ("MatchApproved", "2026-02", 1)]


def test_duckdb_reads_every_type_at_once(tmp_path: Path) -> None:
    out, _ = every_type(tmp_path)
    counts = dict(
        duckdb.sql(
            f"SELECT type, count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true,"
            " union_by_name = true) GROUP BY type"
        ).fetchall()
    )
    assert counts == {name: 1 for name in VALID}
    held_on = duckdb.sql(f"SELECT held_on FROM read_parquet('{out}/type=MeetingLogged/*/*/*.parquet')").fetchall()[0]
    assert str(held_on[0]) == "2025-04-01"


def test_time_range_and_type_filters(tmp_path: Path) -> None:
    data = payloads()
    records = [envelope("RequestRanked", data["RequestRanked"], T0 + timedelta(days=d)) for d in range(5)]
    records += [envelope("RequestWithdrawn", data["RequestWithdrawn"], T0 + timedelta(days=d)) for d in range(5)]
    out, manifest = export(
        tmp_path,
        records,
        since=T0 + timedelta(days=1),
        until=T0 + timedelta(days=3),
        types=frozenset({"RequestRanked"}),
    )
    assert manifest["by_type"].keys() == {"RequestRanked"}
    assert manifest["events_written"] == 2  # days 1 and 2: since inclusive, until exclusive
    assert manifest["skipped"]["outside_time_range"] == 6 and manifest["skipped"]["other_types"] == 2
    assert manifest["time_range"] == {
        "first": (T0 + timedelta(days=1)).isoformat(),
        "last": (T0 + timedelta(days=2)).isoformat(),
    }
    times = pq.read_table(next(out.rglob("*.parquet"))).column("time").to_pylist()
    assert sorted(times) == [T0 + timedelta(days=1), T0 + timedelta(days=2)]


def test_bad_records_are_counted_not_fatal(tmp_path: Path) -> None:
    data = payloads()
    records = [
        b"not json",
        b"\xff\xfe{",
        None,
        envelope("SomethingNewer", {"x": 1}),
        envelope("MatchApproved", {**data["MatchApproved"], "choice_rank": 9}),
        envelope("MatchApproved", data["MatchApproved"]),
    ]
    records.append(records[-1])  # republished
    _, manifest = export(tmp_path, records)
    assert manifest["records_read"] == 7 and manifest["events_written"] == 1
    assert manifest["skipped"]["duplicates"] == 1
    assert manifest["skipped"]["invalid_envelope"] == 3
    assert manifest["skipped"]["unknown_types"] == {"SomethingNewer": 1}
    assert manifest["skipped"]["invalid_payload"] == {"MatchApproved": 1}


def test_a_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "export"
    with pytest.raises(RuntimeError), staged(out, force=False) as staging:
        (staging / "half.parquet").write_bytes(b"x")
        raise RuntimeError("broker went away")
    assert list(tmp_path.iterdir()) == []


def test_out_must_be_empty_or_an_earlier_export_with_force(tmp_path: Path) -> None:
    out, _ = every_type(tmp_path)
    with pytest.raises(OutputRefused, match="not empty"):
        export(tmp_path, [])
    with staged(out, force=True) as staging:  # replacing an earlier export is allowed with force
        (staging / MANIFEST).write_text("{}")
    assert [p.name for p in out.iterdir()] == [MANIFEST]
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("…")
    with pytest.raises(OutputRefused, match="not an earlier export"), staged(precious, force=True):
        pass
    assert (precious / "chapter1.tex").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "thesis"]


def test_both_sequence_forms_export_as_the_stream_version(tmp_path: Path) -> None:
    """Records published before the sortable string carry an integer ``sequence``; both become the same column."""
    data = payloads()["MentorCapacityChanged"]
    new = envelope("MentorCapacityChanged", data, sequence=12)
    old = json.loads(new)
    old["sequence"], old["id"] = 13, str(uuid.uuid4())
    assert json.loads(new)["sequence"] == "0000000012"
    out, manifest = export(tmp_path, [new, json.dumps(old).encode()])
    [file] = (out / "type=MentorCapacityChanged").rglob("*.parquet")
    assert sorted(pq.read_table(file).to_pydict()["sequence"]) == [12, 13]
    assert manifest["skipped"]["invalid_envelope"] == 0 and manifest["skipped"]["duplicates"] == 0
