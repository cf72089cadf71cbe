"""The bulk HR import's row hash (one definition for the CLI and profiles) and the CLI's streamed passes."""

from __future__ import annotations

import json
from concurrent.futures import Future
from pathlib import Path

import msgspec

from mentorship.cli.hr import _unknown_rows, read_rows, roster_of
from services.profiles.domain.hr_import import content_hash
from shared.hr_rows import row_hash

ROW = {
    "employee_id": "E1",
    "legal_name": "Ada Okafor",
    "country": "US",
    "remote": False,
    "effective_date": "2025-01-01",
}


def test_the_hash_is_of_the_content_whatever_the_order_of_its_keys() -> None:
    assert row_hash(ROW) == row_hash(dict(reversed(list(ROW.items())))) == content_hash(ROW)
    assert len(row_hash(ROW)) == 16
    assert row_hash({**ROW, "legal_name": "Ada Okafor "}) != row_hash(ROW)
    assert row_hash({**ROW, "remote": 0}) != row_hash(ROW)  # false and 0 are different content


def test_the_cli_and_the_service_hash_the_same_row_the_same_way() -> None:
    """What the CLI hashes (a line as msgspec decodes it) is what profiles hashes (the fields as the body's JSON
    decodes them on the way in)."""
    line = json.dumps({**ROW, "legal_name": "Zoë Ñandú", "note": None, "grade": 1.5, "big": 2**40})
    as_read = msgspec.json.decode(line)
    as_received = json.loads(msgspec.json.encode({"rows": [{"row": 1, "fields": as_read}]}))["rows"][0]["fields"]
    assert row_hash(as_read) == row_hash(as_received)


def test_a_snapshots_roster_pass_keeps_every_employee_id_once(tmp_path: Path) -> None:
    lines = [json.dumps(ROW), "", "{not json", "[1, 2]", json.dumps({"employee_id": 7}), json.dumps(ROW), "{}"]
    jsonl = tmp_path / "w.jsonl"
    jsonl.write_text("\n".join(lines) + "\n")
    assert roster_of(jsonl) == ["7", "E1"]
    csv = tmp_path / "w.csv"
    csv.write_text("employee_id,legal_name\nE2,Bo\n,Nobody\nE1,Ada\n")
    assert roster_of(csv) == ["E1", "E2"]


def test_only_the_rows_profiles_does_not_know_are_sent_in_file_order(tmp_path: Path) -> None:
    jsonl = tmp_path / "w.jsonl"
    rows = [{"employee_id": f"E{n}"} for n in range(12_000)]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows[:5]) + "\n{bad\n" + "\n".join(map(json.dumps, rows[5:])))
    known = {row_hash(r) for r in rows if int(r["employee_id"][1:]) % 3}  # profiles knows two rows in three
    asked: list[int] = []
    taken: list[dict] = []

    def recognise(chunk: list[tuple[int, dict]]) -> Future:
        asked.append(len(chunk))
        future: Future = Future()
        unknown = [(n, f) for n, f in chunk if row_hash(f) not in known]
        future.set_result(({"counts": {"unchanged": len(chunk) - len(unknown)}, "rows": []}, unknown))
        return future

    unreadable: list[tuple[int, str, str]] = []
    sent = list(_unknown_rows(read_rows(jsonl), unreadable, recognise, taken.append))
    assert asked == [5000, 5000, 2000]  # the file in chunks of what /hashes takes at once
    assert [fields["employee_id"] for _, fields, _ in sent] == [f"E{n}" for n in range(0, 12_000, 3)]
    assert [number for number, _, _ in sent] == sorted(number for number, _, _ in sent)
    assert sum(t["counts"]["unchanged"] for t in taken) == 8000
    assert [(n, field) for n, field, _ in unreadable] == [(6, "row")]
