"""``mentorship hr import FILE``: bulk-import workers (CSV or JSON Lines) into profiles over HTTP.

The file is streamed here (read once, twice for a snapshot's roster; never held whole) and sent in
batches, in file order, to ``/hr/imports`` of the profiles service; each row is a worker record
(``shared.events.hr.Worker`` fields) with its ``effective_date``.  Batches in flight never share a worker,
so one worker's rows are applied in file order.  Rows with errors are reported and not applied.
"""

from __future__ import annotations

import csv
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import httpx
import msgspec
import typer
from rich.console import Console
from rich.table import Table

from mentorship.cli.console import LiveConsole
from mentorship.cli.credentials import CredentialsError, bearer_for
from shared.collecting import bulk_work, collect_young
from shared.hr_rows import row_hash
from shared.roles import Role

app = typer.Typer(help="The institution's HR data: bulk imports.", no_args_is_help=True)
out = LiveConsole()

_JSON = {"Content-Type": "application/json"}
MAX_BATCH = 5000  # what /hr/imports/{id}/rows and /hashes take at once
Row = tuple[int, dict[str, Any] | None, str | None]  # row number, fields, or why the line could not be read


def read_rows(path: Path) -> Iterator[Row]:
    """CSV (header row; empty cells are absent) or JSON Lines (one object a line; blank lines skipped)."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            for number, record in enumerate(csv.DictReader(f), start=2):
                yield number, {k.strip(): v.strip() for k, v in record.items() if k and v and v.strip()}, None
        return
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                fields = _decode(line)
            except msgspec.DecodeError as exc:
                yield number, None, f"is not JSON: {exc}"
                continue
            if not isinstance(fields, dict):
                yield number, None, "is not a JSON object"
            else:
                yield number, fields, None


_decode = msgspec.json.Decoder().decode  # several times json.loads's speed: bench/hr_import.py
_encode = msgspec.json.Encoder().encode


class _Employee(msgspec.Struct):
    employee_id: Any = None


_decode_employee = msgspec.json.Decoder(_Employee).decode  # skips every other field: bench/hr_import.py


def roster_of(path: Path) -> list[str]:
    """A snapshot's first pass: the file's employee ids (sorted, once each); only they are kept."""
    if path.suffix.lower() == ".csv":
        return sorted({str(f["employee_id"]) for _, f, _ in read_rows(path) if f and f.get("employee_id")})
    ids: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                employee_id = _decode_employee(line).employee_id
            except msgspec.DecodeError:  # blank, not JSON or not an object: the second pass reports it
                continue
            if employee_id:
                ids.add(str(employee_id))
    return sorted(ids)


def _client(url: str) -> httpx.Client:
    try:
        token = bearer_for("profiles", "hr-import-cli", [Role.hr_integration])
    except CredentialsError as exc:
        raise _fail(str(exc)) from None
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def _checked(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text
        raise _fail(f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}")
    return response.json()


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".csv or .jsonl")],
    url: Annotated[str, typer.Option(help="Base URL of the profiles service")] = "http://127.0.0.1:8001",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; change nothing")] = False,
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="Full snapshot: a current worker missing from the file is a leaver")
    ] = False,
    max_leaver_share: Annotated[
        float, typer.Option(min=0, max=1, help="Snapshot: refuse when more than this share of workers would leave")
    ] = 0.1,
    force: Annotated[bool, typer.Option("--force", help="Snapshot: apply even above --max-leaver-share")] = False,
    as_of: Annotated[str | None, typer.Option(help="Snapshot date (leavers' last day), YYYY-MM-DD")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000)] = 1000,
    parallel: Annotated[int, typer.Option(min=1, max=16, help="Batches in flight at once")] = 2,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no per-row listing")] = False,
) -> None:
    """Import workers; re-importing the same file changes nothing."""
    if file.suffix.lower() not in (".csv", ".jsonl", ".ndjson"):
        raise typer.BadParameter("must end in .csv, .jsonl or .ndjson", param_hint="FILE")
    start: dict[str, Any] = {"mode": "snapshot" if snapshot else "delta", "dry_run": dry_run}
    if snapshot:  # a first pass over the file: only its employee ids are kept
        start |= {
            "roster": roster_of(file),
            "max_leaver_share": max_leaver_share,
            "force": force,
            "as_of": as_of,
        }
    listing = dry_run and not quiet  # only a dry run's listing needs every changed row back
    counts: Counter[str] = Counter()
    changed: list[dict] = []
    errors: list[tuple[int, str, str]] = []
    try:
        with _client(url) as client:
            # msgspec, not httpx's json.dumps: a snapshot's start names every employee (bench/hr_import.py)
            session = _checked(client.post("/hr/imports", content=_encode(start), headers=_JSON))
            import_id = session["import_id"]
            # Chunks of decoded rows stay alive while the file streams, and the cycle collector re-scanned them;
            # they make no cyclic garbage (shared.collecting): hashing a 110,000-row file 566 -> 442 ms CPU.
            with bulk_work(), _progress(quiet) as progress, ThreadPoolExecutor(parallel + 1) as pool:
                task = progress.add_task("importing", total=None if quiet else _count_rows(file))

                def recognise(chunk: list[tuple[int, dict]]) -> tuple[dict, list[tuple[int, dict]]]:
                    """The rows of ``chunk`` profiles does not know (the others it counted): they go in full."""
                    body = {"rows": [n for n, _ in chunk], "hashes": [row_hash(fields).hex() for _, fields in chunk]}
                    report = _checked(
                        client.post(f"/hr/imports/{import_id}/hashes", content=_encode(body), headers=_JSON)
                    )
                    unknown = set(report["unknown"])
                    progress.advance(task, len(chunk) - len(unknown))
                    return report, [(n, fields) for n, fields in chunk if n in unknown]

                def send(batch: list[tuple[int, dict]]) -> dict:
                    body = {"rows": [{"row": n, "fields": fields} for n, fields in batch]}
                    if not listing:
                        body["report"] = "errors"
                    report = _checked(
                        client.post(f"/hr/imports/{import_id}/rows", content=_encode(body), headers=_JSON)
                    )
                    progress.advance(task, len(batch))
                    return report

                def take(report: dict) -> None:
                    counts.update(report["counts"])
                    for r in report["rows"]:
                        errors.extend((r["row"], e["field"], e["reason"]) for e in r["errors"])
                        if listing and r["changes"]:
                            changed.append(r)

                in_flight: list[tuple[Future[dict], set[str]]] = []
                unknown = _unknown_rows(read_rows(file), errors, lambda chunk: pool.submit(recognise, chunk), take)
                for batch in _batches(unknown, batch_size, errors):
                    workers = {str(fields.get("employee_id")) for _, fields in batch}
                    while in_flight and (
                        len(in_flight) >= parallel or any(workers & ids for _, ids in in_flight)
                    ):  # one worker's rows are applied in file order: wait for the batch ahead that holds them
                        take(in_flight.pop(0)[0].result())
                    in_flight.append((pool.submit(send, batch), workers))
                for future, _ in in_flight:
                    take(future.result())
            session = _checked(client.post(f"/hr/imports/{import_id}/complete"))
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach the profiles service at {url}: {exc}") from exc
    counts["error"] = len(errors)
    _summary(counts, session, dry_run, quiet, sorted(changed, key=lambda r: r["row"]), sorted(errors))
    if errors:
        raise typer.Exit(1)


def _unknown_rows(
    rows: Iterator[Row],
    unreadable: list[tuple[int, str, str]],
    recognise: Callable[[list[tuple[int, dict]]], Future[tuple[dict, list[tuple[int, dict]]]]],
    take: Callable[[dict], None],
) -> Iterator[Row]:
    """The rows profiles does not know yet, in file order: the file's rows go by their hashes first, a
    chunk at a time with the next chunk asked about while this one's rows are sent (``take`` counts the
    known ones); only the unknown rows are sent in full.  Streamed: two chunks in memory at most."""
    asked: deque[Future[tuple[dict, list[tuple[int, dict]]]]] = deque()

    def answered() -> Iterator[Row]:
        report, unknown = asked.popleft().result()
        take(report)
        collect_young()  # the HTTP client's garbage of the chunk's requests, under bulk_work
        for number, fields in unknown:
            yield number, fields, None

    for chunk in _batches(rows, MAX_BATCH, unreadable):
        asked.append(recognise(chunk))
        if len(asked) > 1:
            yield from answered()
    while asked:
        yield from answered()


def _batches(
    rows: Iterator[Row], size: int, unreadable: list[tuple[int, str, str]]
) -> Iterator[list[tuple[int, dict]]]:
    """The file's readable rows in file order, ``size`` at a time (streamed: one batch in memory per batch in
    flight); a row that cannot be read goes to ``unreadable``."""
    batch: list[tuple[int, dict]] = []
    size = min(size, MAX_BATCH)
    for number, fields, why in rows:
        if fields is None:
            unreadable.append((number, "row", why or "cannot be read"))
            continue
        batch.append((number, fields))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _count_rows(path: Path) -> int:
    """About how many rows the file has (its lines, less a CSV's header): the progress bar's total."""
    with path.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return max(lines - (path.suffix.lower() == ".csv"), 0)


class _NoProgress:
    """``--quiet``'s progress display: nothing shown, and rich's progress machinery not even imported."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def add_task(self, *_: Any, **__: Any) -> int:
        return 0

    def advance(self, *_: Any) -> None:
        return None


def _progress(quiet: bool) -> Any:
    """A rich progress bar, or with ``quiet`` nothing (bench/hr_import.py: the CLI's start-up in every run)."""
    if quiet:
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out.now(),
    )


def _summary(
    counts: Counter[str],
    session: dict,
    dry_run: bool,
    quiet: bool,
    rows: list[dict],
    errors: list[tuple[int, str, str]],
) -> None:
    verb = "would be" if dry_run else "were"
    leavers = session.get("leavers", [])
    out.print(f"import {session['import_id']}" + (" (dry run: nothing changed)" if dry_run else ""))
    table = Table()
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for outcome in ("created", "updated", "unchanged", "deactivated", "scheduled", "error"):
        table.add_row(outcome, str(counts.get(outcome, 0)))
    if session["mode"] == "snapshot":
        table.add_row("leavers", str(len(leavers)))
    out.print(table)
    if leavers and not quiet:
        out.print(f"leavers ({verb} deactivated): {', '.join(leavers)}")
    if dry_run and not quiet:
        for r in rows:
            if r["changes"]:
                changed = "; ".join(f"{k}: {v['old']!r} → {v['new']!r}" for k, v in r["changes"].items())
                out.print(f"row {r['row']} ({r['employee_id']}) {r['outcome']}: {changed}")
    if errors:
        report = Table(title=f"{len(errors)} row error(s): these rows were not applied")
        for column in ("row", "field", "reason"):
            report.add_column(column)
        for number, field, reason in errors:
            report.add_row(str(number), field, reason)
        Console(stderr=True).print(report)
