"""Bulk HR import over the API: rows become HR facts; errors are per row; re-import and dry runs change nothing."""

from __future__ import annotations

from datetime import date

from shared.auth import Role
from shared.hr_rows import row_hash
from shared.sealing import is_sealed
from tests.helpers import import_row
from tests.integration.service_harness import auth

HR = auth("hr-bot", Role.hr_integration)
ID = "00000000-0000-0000-0000-000000000000"


def row(employee_id: str, **overrides) -> dict:
    return import_row(employee_id, **{"location": "Main campus", **overrides})


async def run_import(api, rows: list[dict], *, dry_run: bool = False, snapshot: bool = False, **start) -> dict:
    body = {"mode": "snapshot" if snapshot else "delta", "dry_run": dry_run, **start}
    if snapshot:
        body["roster"] = [r["employee_id"] for r in rows if "employee_id" in r]
    opened = await api.post("/hr/imports", json=body, headers=HR)
    if opened.status_code != 201:
        return {"refused": opened}
    import_id = opened.json()["import_id"]
    lines = [{"row": n, "fields": fields} for n, fields in enumerate(rows, start=1)]
    batch = await api.post(f"/hr/imports/{import_id}/rows", json={"rows": lines}, headers=HR)
    assert batch.status_code == 200, batch.text
    done = await api.post(f"/hr/imports/{import_id}/complete", headers=HR)
    assert done.status_code == 200, done.text
    return {"batch": batch.json(), "session": done.json()}


async def events(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM events")


async def test_rows_become_participants_and_a_reimport_changes_nothing(api, profiles_pool) -> None:
    rows = [row("E1"), row("E2", department_name="Medicine"), row("E3", employment_status="leave")]
    first = await run_import(api, rows)
    assert first["batch"]["counts"] == {"created": 2, "deactivated": 1}
    people = await profiles_pool.fetch("SELECT participant_id, profile, active FROM participants ORDER BY 1")
    assert [(p["participant_id"], p["profile"]["department"], p["active"]) for p in people] == [
        ("E1", "Surgery", True),
        ("E2", "Medicine", True),
        ("E3", "Surgery", False),
    ]
    before = await events(profiles_pool)

    again = await run_import(api, rows)
    assert again["batch"] == {"counts": {"unchanged": 3}, "rows": []}
    assert await events(profiles_pool) == before
    assert await profiles_pool.fetchval("SELECT count(*) FROM hr_facts") == 3


async def test_a_changed_row_is_an_update_reported_field_by_field(api, profiles_pool) -> None:
    await run_import(api, [row("E1")])
    report = await run_import(api, [row("E1", department_name="Oncology", effective_date="2025-02-01")])
    [changed] = report["batch"]["rows"]
    assert changed["outcome"] == "updated"
    assert changed["changes"] == {"profile.department": {"old": "Surgery", "new": "Oncology"}}
    row_ = await profiles_pool.fetchrow("SELECT profile FROM participants WHERE participant_id = 'E1'")
    assert row_["profile"]["department"] == "Oncology"


async def test_rows_with_errors_are_reported_and_skipped_the_rest_applied(api, profiles_pool) -> None:
    rows = [
        row("E1"),
        row("E2", work_email="not-an-email"),
        {k: v for k, v in row("E3").items() if k != "country"},
        row("E4", last_hire_date="2019-01-01"),
        row("E5", work_email="e1@example.edu"),  # E1's work email
    ]
    report = await run_import(api, rows)
    errors = {r["row"]: r["errors"] for r in report["batch"]["rows"] if r["outcome"] == "error"}
    assert errors[2][0]["field"] == "work_email" and "pattern" in errors[2][0]["reason"]
    assert errors[3] == [{"field": "country", "reason": "Field required"}]
    assert errors[4] == [{"field": "row", "reason": "last_hire_date precedes original_hire_date"}]
    assert errors[5][0]["field"] == "work_email" and "belongs to employee E1" in errors[5][0]["reason"]
    assert report["batch"]["counts"] == {"created": 1, "error": 4}
    assert await profiles_pool.fetchval("SELECT array_agg(participant_id) FROM participants") == ["E1"]


async def test_a_dry_run_reports_what_would_change_and_writes_nothing(api, profiles_pool) -> None:
    await run_import(api, [row("E1")])
    before = await events(profiles_pool)
    rows = [row("E1", location="North site", effective_date="2025-02-01"), row("E2")]
    report = await run_import(api, rows, dry_run=True)
    assert report["batch"]["counts"] == {"created": 1, "updated": 1}
    assert report["batch"]["rows"][0]["changes"] == {"profile.location": {"old": "Main campus", "new": "North site"}}
    assert report["session"]["counts"] == {"created": 1, "updated": 1}
    assert await events(profiles_pool) == before
    assert await profiles_pool.fetchval("SELECT count(*) FROM participants") == 1
    assert await profiles_pool.fetchval("SELECT count(*) FROM hr_facts") == 1


async def test_a_snapshot_makes_the_missing_workers_leavers(api, profiles_pool) -> None:
    everyone = [row(f"E{n}") for n in range(1, 21)]
    await run_import(api, everyone)
    report = await run_import(api, everyone[:-2], snapshot=True, as_of="2025-02-28")
    assert report["session"]["leavers"] == ["E19", "E20"] and report["session"]["counts"]["leavers"] == 2
    gone = await profiles_pool.fetch("SELECT participant_id, inactive_reason FROM participants WHERE NOT active")
    assert sorted((g["participant_id"], g["inactive_reason"]) for g in gone) == [
        ("E19", "left_institution"),
        ("E20", "left_institution"),
    ]
    deactivation = await profiles_pool.fetchval(
        "SELECT data FROM events WHERE stream_id = 'E20' AND event_type = 'ParticipantDeactivated'"
    )
    assert deactivation["effective_date"] == "2025-02-28"
    again = await run_import(api, everyone[:-2], snapshot=True, as_of="2025-02-28")
    assert again["session"]["leavers"] == [] and again["batch"]["counts"] == {"unchanged": 18}


async def test_a_snapshot_losing_too_many_workers_is_refused_unless_forced(api, profiles_pool) -> None:
    await run_import(api, [row(f"E{n}") for n in range(1, 11)])
    refused = (await run_import(api, [row("E1"), row("E2")], snapshot=True))["refused"]
    assert refused.status_code == 409 and "8 of 10" in refused.json()["detail"]
    assert await profiles_pool.fetchval("SELECT count(*) FROM participants WHERE NOT active") == 0
    forced = await run_import(api, [row("E1"), row("E2")], snapshot=True, force=True)
    assert len(forced["session"]["leavers"]) == 8
    assert await profiles_pool.fetchval("SELECT count(*) FROM participants WHERE NOT active") == 8


async def test_a_snapshot_row_outside_its_roster_is_an_error(api) -> None:
    opened = await api.post("/hr/imports", json={"mode": "snapshot", "roster": ["E1"]}, headers=HR)
    import_id = opened.json()["import_id"]
    batch = await api.post(
        f"/hr/imports/{import_id}/rows", json={"rows": [{"row": 7, "fields": row("E2")}]}, headers=HR
    )
    [report] = batch.json()["rows"]
    assert report["row"] == 7 and report["errors"][0]["field"] == "employee_id"


async def test_import_needs_the_hr_role_and_a_well_formed_request(api) -> None:
    mentee = auth("m1", Role.mentee)
    assert (await api.post("/hr/imports", json={}, headers=mentee)).status_code == 403
    bad = await api.post("/hr/imports", json={"mode": "snapshot"}, headers=HR)
    assert bad.status_code == 422 and "roster" in bad.text
    opened = await api.post("/hr/imports", json={}, headers=HR)
    import_id = opened.json()["import_id"]
    empty = await api.post(f"/hr/imports/{import_id}/rows", json={"rows": []}, headers=HR)
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "rows"]
    # the body is validated from its bytes; one that fails gets FastAPI's own answer (422, where), as before
    zero = await api.post(f"/hr/imports/{import_id}/rows", json={"rows": [{"row": 0, "fields": {}}]}, headers=HR)
    assert zero.status_code == 422 and zero.json()["detail"][0]["loc"] == ["body", "rows", 0, "row"]
    await api.post(f"/hr/imports/{import_id}/complete", headers=HR)
    closed = await api.post(
        f"/hr/imports/{import_id}/rows", json={"rows": [{"row": 1, "fields": row("E1")}]}, headers=HR
    )
    assert closed.status_code == 409
    unknown = await api.post("/hr/imports/00000000-0000-0000-0000-000000000000/complete", headers=HR)
    assert unknown.status_code == 404


async def test_a_forward_dated_row_is_scheduled(api, profiles_pool, clock) -> None:
    report = await run_import(api, [row("E1", effective_date=str(date(2025, 6, 1)))])
    assert report["batch"]["counts"] == {"scheduled": 1}
    assert await profiles_pool.fetchval("SELECT count(*) FROM timers") == 1


async def test_a_new_worker_applied_in_bulk_gets_the_events_of_one_applied_row_by_row(api, profiles_pool) -> None:
    # E1 is new and alone in the batch: applied with the other new workers at once; E2 has two rows: row by row
    rows = [row("E1", employment_status="leave"), row("E2", employment_status="leave")]
    rows.append(row("E2", employment_status="leave", effective_date="2025-01-02"))
    report = await run_import(api, rows)
    assert report["batch"]["counts"] == {"deactivated": 2, "unchanged": 1}
    import_id = report["session"]["import_id"]
    stored = await profiles_pool.fetch(
        "SELECT e.stream_id, e.version, e.event_type, e.correlation_id, e.causation_id, e.data,"
        " o.position IS NOT NULL AS queued FROM events e LEFT JOIN outbox o USING (position) ORDER BY 1, 2"
    )
    first_facts = {
        r["employee_id"]: r["event_id"]
        for r in await profiles_pool.fetch(
            "SELECT DISTINCT ON (employee_id) employee_id, event_id FROM hr_facts ORDER BY employee_id, arrival"
        )
    }

    def shape(employee_id: str) -> list[tuple]:
        return [
            (
                e["version"],
                e["event_type"],
                str(e["correlation_id"]),
                str(e["causation_id"]) == first_facts[employee_id],
                e["queued"],
                e["data"].get("source"),
                e["data"].get("reason"),
                [(c["field"], is_sealed(c["new"])) for c in e["data"].get("changes", [])],
            )
            for e in stored
            if e["stream_id"] == employee_id
        ]

    assert shape("E1") == shape("E2")
    assert [s[:5] for s in shape("E1")] == [
        (1, "ProfileUpdated", import_id, True, True),
        (2, "ParticipantDeactivated", import_id, True, True),
    ]
    assert ("name", True) in shape("E1")[0][7] and ("email", True) in shape("E1")[0][7]  # sealed at rest
    people = await profiles_pool.fetch("SELECT participant_id, email, active, version FROM participants ORDER BY 1")
    assert [tuple(p) for p in people] == [("E1", "e1@example.edu", False, 2), ("E2", "e2@example.edu", False, 2)]
    workers = await profiles_pool.fetch("SELECT employee_id, participant_id, applied FROM hr_workers ORDER BY 1")
    assert [(w["participant_id"], w["applied"]["status"]) for w in workers] == [("E1", "leave"), ("E2", "leave")]
    standing = await profiles_pool.fetch("SELECT participant_id, standing FROM participant_standing ORDER BY 1")
    assert [tuple(s) for s in standing] == [("E1", "deactivated"), ("E2", "deactivated")]  # may not act (403)


async def test_a_row_sent_again_is_known_by_its_content_hash_until_its_worker_is_erased(api, profiles_pool) -> None:
    rows = [row("E1"), row("E2", department_name="Medicine")]
    await run_import(api, rows)
    kept = await profiles_pool.fetch(
        "SELECT r.employee_id, r.event_id = f.event_id AS same FROM hr_import_rows r"
        " JOIN hr_facts f USING (employee_id) ORDER BY 1"
    )
    assert [tuple(k) for k in kept] == [("E1", True), ("E2", True)]
    before = await events(profiles_pool)
    # sent again, keys in another order (the hash is of the content): unchanged without being parsed
    again = await run_import(api, [dict(reversed(list(r.items()))) for r in rows], snapshot=True)
    assert again["batch"] == {"counts": {"unchanged": 2}, "rows": []}
    assert await events(profiles_pool) == before
    # a snapshot's roster still holds for a row known by its hash
    opened = await api.post("/hr/imports", json={"mode": "snapshot", "roster": ["E1"], "force": True}, headers=HR)
    lines = [{"row": n, "fields": fields} for n, fields in enumerate(rows, start=1)]
    report = await api.post(f"/hr/imports/{opened.json()['import_id']}/rows", json={"rows": lines}, headers=HR)
    assert report.json()["counts"] == {"unchanged": 1, "error": 1}
    assert report.json()["rows"][0]["errors"] == [
        {"field": "employee_id", "reason": "is not in the snapshot's roster of employees"}
    ]
    # erasing the worker forgets its rows with its facts
    assert (await api.delete("/participants/E1", headers=auth("director", Role.admin))).status_code == 204
    assert await profiles_pool.fetchval("SELECT count(*) FROM hr_import_rows WHERE employee_id = 'E1'") == 0
    assert await profiles_pool.fetchval("SELECT count(*) FROM hr_import_rows") == 1


async def test_rows_known_by_their_hashes_are_counted_and_only_the_unknown_are_asked_for(api, profiles_pool) -> None:
    rows = [row("E1"), row("E2", department_name="Medicine")]
    await run_import(api, rows)
    before = await events(profiles_pool)
    changed = row("E2", department_name="Oncology", effective_date="2025-02-01")
    opened = await api.post("/hr/imports", json={"mode": "delta"}, headers=HR)
    import_id = opened.json()["import_id"]
    # the hash is of the content, whatever the order of the keys
    sent = [dict(reversed(list(rows[0].items()))), rows[1], changed]
    check = {"rows": [2, 3, 4], "hashes": [row_hash(fields).hex() for fields in sent]}
    answer = await api.post(f"/hr/imports/{import_id}/hashes", json=check, headers=HR)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"counts": {"unchanged": 2}, "rows": [], "unknown": [4]}
    assert await events(profiles_pool) == before  # nothing applied, nothing parsed
    applied = await api.post(
        f"/hr/imports/{import_id}/rows", json={"rows": [{"row": 4, "fields": changed}]}, headers=HR
    )
    assert applied.json()["counts"] == {"updated": 1}
    done = await api.post(f"/hr/imports/{import_id}/complete", headers=HR)
    assert done.json()["counts"] == {"unchanged": 2, "updated": 1}  # the import counts every row of the file


async def test_a_known_row_outside_a_snapshots_roster_is_an_error(api) -> None:
    rows = [row("E1"), row("E2")]
    await run_import(api, rows)
    opened = await api.post("/hr/imports", json={"mode": "snapshot", "roster": ["E1"], "force": True}, headers=HR)
    import_id = opened.json()["import_id"]
    check = {"rows": [2, 3], "hashes": [row_hash(fields).hex() for fields in rows]}
    answer = (await api.post(f"/hr/imports/{import_id}/hashes", json=check, headers=HR)).json()
    assert answer["counts"] == {"unchanged": 1, "error": 1} and answer["unknown"] == []
    [refused] = answer["rows"]
    assert refused["row"] == 3 and refused["employee_id"] == "E2"
    assert refused["errors"] == [{"field": "employee_id", "reason": "is not in the snapshot's roster of employees"}]


async def test_hashes_that_are_not_one_per_row_or_not_hashes_are_refused_naming_the_field(api) -> None:
    import_id = (await api.post("/hr/imports", json={}, headers=HR)).json()["import_id"]
    url = f"/hr/imports/{import_id}/hashes"
    not_hex = await api.post(url, json={"rows": [1], "hashes": ["xyz"]}, headers=HR)
    assert not_hex.status_code == 422 and not_hex.json()["detail"][0]["loc"] == ["body", "hashes", 0]
    uneven = await api.post(url, json={"rows": [1, 2], "hashes": ["0" * 32]}, headers=HR)
    assert uneven.status_code == 422 and "one hash a row" in uneven.text
    await api.post(f"/hr/imports/{import_id}/complete", headers=HR)
    closed = await api.post(url, json={"rows": [1], "hashes": ["0" * 32]}, headers=HR)
    assert closed.status_code == 409
    unknown = await api.post(f"/hr/imports/{ID}/hashes", json={"rows": [1], "hashes": ["0" * 32]}, headers=HR)
    assert unknown.status_code == 404


async def test_bulk_statements_take_texts_with_line_breaks_or_empty_as_arrays(profiles_pool) -> None:
    """The bulk statements send text columns as one text of lines (``text_columns``); a value with a line break,
    or an empty one, goes as an array, with the same answers."""
    from services.profiles.adapters.hr_imports import PostgresHrImports
    from services.profiles.adapters.hr_records import PostgresHrRecords
    from services.profiles.adapters.read_model import ReadModel

    records, imports = PostgresHrRecords(), PostgresHrImports()
    async with profiles_pool.acquire() as conn, conn.transaction():
        for odd in ("E\n1", ""):
            assert await records.new_workers(conn, [(odd, "f1"), ("E2", "f2")]) == {odd, "E2"}
            assert await ReadModel().unclaimed(conn, [(odd, "a@example.edu"), ("E2", "b@example.edu")]) == {odd, "E2"}
            assert await records.known_facts(conn, [odd, "f2"]) == set()
            await imports.keep_rows(conn, [(b"h" * 16, odd, "no such fact"), (b"short", "E2", "nor this")])
        assert await conn.fetchval("SELECT count(*) FROM hr_import_rows") == 0  # no fact kept: no row kept


async def test_rows_of_facts_the_transaction_wrote_are_kept_without_a_look_up_the_others_with_their_fact(
    profiles_pool,
) -> None:
    """``keep_rows``' ``written`` (a first import's new workers): kept as named; a row not named is kept only
    when its fact is there, whatever the order of the rows."""
    from services.profiles.adapters.hr_imports import PostgresHrImports

    imports = PostgresHrImports()
    async with profiles_pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO hr_facts (event_id, employee_id, event_type, schema_version, effective_date, recorded_at,"
            " data) VALUES ('f2', 'E2', 'WorkerUpdated', 1, '2025-01-01', now(), '{}')"
        )
        rows = [(b"1" * 16, "E1", "no such fact"), (b"2" * 16, "E2", "f2"), (b"3" * 16, "E3", "f3")]
        await imports.keep_rows(conn, rows, written={"f3"})
        kept = await conn.fetch("SELECT employee_id, event_id FROM hr_import_rows ORDER BY 1")
        assert [tuple(k) for k in kept] == [("E2", "f2"), ("E3", "f3")]


async def test_a_new_worker_is_one_nobody_holds_by_id_email_or_erasure(profiles_pool) -> None:
    """``unclaimed`` and ``new_workers`` look the batch's keys up: each way a worker is held is still seen."""
    from services.profiles.adapters.hr_records import PostgresHrRecords
    from services.profiles.adapters.read_model import ReadModel

    async with profiles_pool.acquire() as conn:
        transaction = conn.transaction()  # rolled back: nothing of this test is kept
        await transaction.start()
        await conn.execute(
            "INSERT INTO participants (participant_id, email, name, roles, profile, version, employee_id)"
            " VALUES ('P1', 'Ada@Example.edu', 'Ada', '{}', '{}', 1, 'E1'),"
            " ('E2', 'bo@example.edu', 'Bo', '{}', '{}', 1, NULL)"
        )
        await conn.execute("INSERT INTO erased_participants (participant_id, erased_at) VALUES ('E3', now())")
        people = [("E1", "x1@example.edu"), ("E2", "x2@example.edu"), ("E3", "x3@example.edu")]
        people += [("E4", "ada@example.EDU"), ("E5", "x5@example.edu")]
        assert await ReadModel().unclaimed(conn, people) == {"E5"}
        await conn.execute("INSERT INTO hr_workers (employee_id) VALUES ('E6')")
        await conn.execute(
            "INSERT INTO hr_rescissions (rescinded_event_id, employee_id, rescinded_type, rescinded_by)"
            " VALUES ('f7', 'E7', 'WorkerUpdated', 'r7')"
        )
        facts = [("E6", "f6"), ("E7", "f7"), ("E8", "f8")]
        try:
            assert await PostgresHrRecords().new_workers(conn, facts) == {"E8"}
        finally:
            await transaction.rollback()


def test_text_columns_are_lines_unless_a_value_breaks_a_line_or_is_empty() -> None:
    from services.profiles.adapters.postgres import text_array, text_columns

    assert text_columns(["E1", "E2"], ["a", "b"]) == (True, ["E1\nE2", "a\nb"])
    assert text_columns(["E1", "E\n2"], ["a", "b"]) == (False, [["E1", "E\n2"], ["a", "b"]])
    assert text_columns(["E1", ""], ["a", "b"]) == (False, [["E1", ""], ["a", "b"]])
    assert text_columns([], []) == (False, [[], []])
    assert text_array(2, True) == "string_to_array($2::text, E'\\n')" and text_array(2, False) == "$2::text[]"
