"""HTTP: bulk HR imports for institutions without a streaming feed (admins and the HR integration)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, JsonValue, StringConstraints, ValidationError, model_validator

from services.profiles.adapters.container import Container, ProfilesContainer
from services.profiles.application import complete_hr_import, import_hr_rows, recognise_hr_rows, start_hr_import
from services.profiles.application.commands import CompleteHrImport, ImportHrRows, RecogniseHrRows, StartHrImport
from services.profiles.domain.hr_import import ImportNotFound
from shared.auth import HrIntegration
from shared.collecting import bulk_work
from shared.fields import MAX_COUNT, Day, Id
from shared.hr_rows import ROW_HASH_BYTES
from shared.limits import BULK_BODY_BYTES

MAX_BATCH = 5_000


class _BodyParsedOnce(Request):
    """A request whose JSON body is validated as ``model`` straight from its bytes (pydantic-core's parser):
    FastAPI decodes a body with ``json.loads`` and then validates the objects, which for a batch of import rows
    (``fields``: JSON values) cost more than twice the direct validation (bench/hr_import.py: 5.4 -> 2.1 ms of a
    1,000-row batch, timeit).  FastAPI then sees a valid instance of its body model, which it takes as it is.  A
    body that fails goes FastAPI's own way (``json.loads`` and validation), so its errors are the same as ever."""

    model: type[BaseModel]

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = self.model.model_validate_json(await self.body())
            except ValidationError:
                return await super().json()
        return self._json


class _BulkRoute(APIRoute):
    """A route whose JSON body (a pydantic model) is validated from its bytes (``_BodyParsedOnce``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        model = self.body_field.field_info.annotation if self.body_field is not None else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return handle
        parsed = type(f"{model.__name__}Request", (_BodyParsedOnce,), {"model": model})

        async def handler(request: Request) -> Response:
            return await handle(parsed(request.scope, request.receive, request._send))

        return handler


router = APIRouter(prefix="/hr/imports", tags=["hr import"], route_class=_BulkRoute)


class ImportStart(BaseModel):
    mode: Literal["delta", "snapshot"] = Field(
        default="delta", description="snapshot: a worker missing from the roster is a leaver"
    )
    dry_run: bool = False
    as_of: Day | None = Field(default=None, description="Snapshot date (leavers' last day); default today")
    roster: list[Id] | None = Field(
        default=None, max_length=2_000_000, description="Snapshot only: every employee id in the file"
    )
    max_leaver_share: float = Field(default=0.1, ge=0, le=1)
    force: bool = Field(default=False, description="Apply a snapshot even above max_leaver_share")

    @model_validator(mode="after")
    def _roster_with_snapshot(self) -> ImportStart:
        if (self.mode == "snapshot") != (self.roster is not None):
            raise ValueError("roster is given exactly for snapshot imports")
        return self


class ImportSession(BaseModel):
    import_id: UUID
    mode: str
    dry_run: bool
    as_of: date
    counts: dict[str, int]
    leavers: list[str]
    created_at: datetime
    completed_at: datetime | None
    workforce: int | None = None


class ImportLine(BaseModel):
    row: int = Field(ge=1, le=MAX_COUNT, description="Row number in the file, echoed in the report")
    fields: dict[str, JsonValue] = Field(max_length=100, description="Worker fields and effective_date")


class ImportBatch(BaseModel):
    rows: list[ImportLine] = Field(min_length=1, max_length=MAX_BATCH)
    report: Literal["changes", "errors"] = Field(
        default="changes", description="Which rows the answer lists: every row not unchanged, or the errors only"
    )


class RowErrorOut(BaseModel):
    field: str
    reason: str


class RowReport(BaseModel):
    row: int
    employee_id: str | None
    outcome: str
    changes: dict[str, dict[str, JsonValue]] = {}
    errors: list[RowErrorOut] = []


class BatchReport(BaseModel):
    counts: dict[str, int]
    rows: list[RowReport] = Field(description="Every row except the unchanged ones")


RowNumber = Annotated[int, Field(ge=1, le=MAX_COUNT)]
RowHash = Annotated[str, StringConstraints(pattern=f"^[0-9a-f]{{{2 * ROW_HASH_BYTES}}}$")]


class RowHashes(BaseModel):
    rows: list[RowNumber] = Field(min_length=1, max_length=MAX_BATCH, description="Row numbers in the file")
    hashes: list[RowHash] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Each row's content hash (shared.hr_rows.row_hash, lowercase hex), in the order of rows",
    )

    @model_validator(mode="after")
    def _one_hash_a_row(self) -> RowHashes:
        if len(self.hashes) != len(self.rows):
            raise ValueError(f"hashes has {len(self.hashes)} items, rows {len(self.rows)}: one hash a row")
        return self


class HashReport(BaseModel):
    counts: dict[str, int] = Field(description="The known rows: unchanged, or errors (a snapshot's roster)")
    rows: list[RowReport] = Field(description="The known rows with errors")
    unknown: list[int] = Field(description="The rows profiles does not know: send them in full")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ImportSession, max_body_size=BULK_BODY_BYTES)
async def post_import(body: ImportStart, container: Container, _: HrIntegration) -> ImportSession:
    """Open a bulk HR import session (delta or snapshot, optionally a dry run); a snapshot names its roster
    and the leaver threshold."""
    start = StartHrImport(body.mode, body.dry_run, body.as_of, body.roster, body.max_leaver_share, body.force)
    import_id, _, workforce = await start_hr_import.handle(container, start)
    return await _session(container, import_id, workforce if body.mode == "snapshot" else None)


@router.get("/{import_id}", response_model=ImportSession)
async def get_import(import_id: UUID, container: Container, _: HrIntegration) -> ImportSession:
    """An import session: its mode, counts so far and whether it is completed."""
    return await _session(container, import_id)


@router.post("/{import_id}/rows", response_model=BatchReport, max_body_size=BULK_BODY_BYTES)
async def post_rows(import_id: UUID, body: ImportBatch, container: Container, _: HrIntegration) -> BatchReport:
    """Apply a batch of at most 5,000 rows (a row with errors is not applied, the others are); answers the
    counts and every row that changed or failed (``report: errors``: only the rows that failed)."""
    batch = ImportHrRows(import_id, [(line.row, line.fields) for line in body.rows])
    with bulk_work():  # no cycle collection while the batch's objects are alive (shared.collecting)
        results, counts = await import_hr_rows.handle(container, batch)
    return BatchReport(
        counts=dict(counts),
        rows=[
            _report(r)
            for r in results
            if r.outcome == "error" or (r.outcome != "unchanged" and body.report == "changes")
        ],
    )


def _report(r: import_hr_rows.RowResult) -> RowReport:
    return RowReport(
        row=r.row,
        employee_id=r.employee_id,
        outcome=r.outcome,
        changes=r.changes,
        errors=[RowErrorOut(field=e.field, reason=e.reason) for e in r.errors],
    )


@router.post("/{import_id}/hashes", response_model=HashReport, max_body_size=BULK_BODY_BYTES)
async def post_hashes(import_id: UUID, body: RowHashes, container: Container, _: HrIntegration) -> HashReport:
    """Which rows profiles knows, by their content hashes (at most 5,000): a known row is counted unchanged (or
    an error outside a snapshot's roster) as if sent in full; the answer names the unknown rows to send."""
    check = RecogniseHrRows(import_id, [(n, bytes.fromhex(h)) for n, h in zip(body.rows, body.hashes, strict=True)])
    results, counts, unknown = await recognise_hr_rows.handle(container, check)
    return HashReport(counts=dict(counts), rows=[_report(r) for r in results], unknown=unknown)


@router.post("/{import_id}/complete", response_model=ImportSession)
async def post_complete(import_id: UUID, container: Container, _: HrIntegration) -> ImportSession:
    """Close the session; a snapshot's leavers are terminated now."""
    return ImportSession(**await complete_hr_import.handle(container, CompleteHrImport(import_id)))


async def _session(container: ProfilesContainer, import_id: UUID, workforce: int | None = None) -> ImportSession:
    session = await container.queries.hr_import(import_id)
    if session is None:
        raise ImportNotFound(import_id)
    return ImportSession(**session, workforce=workforce)
