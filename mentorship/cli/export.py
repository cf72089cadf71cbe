"""``mentorship export``: the event history as Parquet for analysts, personal data left out or pseudonymised."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from mentorship.export import (
    PSEUDONYM_KEY_ENV,
    BrokerUnavailable,
    ExportRequest,
    OutputRefused,
    catalog_types,
    export_history,
)
from shared.bus import all_event_topics


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or timestamp, e.g. 2026-01-01 or 2026-06-30T12:00:00Z",
            param_hint=option,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _types(values: list[str] | None) -> frozenset[str] | None:
    if not values:
        return None
    known = catalog_types()
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}: not an event type of the catalog ({', '.join(known)})", param_hint="--type"
        )
    return frozenset(values)


def export(
    out: Annotated[Path, typer.Argument(help="Directory to create (must not exist, or be empty)")],
    bootstrap: Annotated[str, typer.Option(envvar="MENTORSHIP_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers")] = (
        "127.0.0.1:9092"
    ),
    since: Annotated[str | None, typer.Option(help="Only events at or after this time (UTC if no zone)")] = None,
    until: Annotated[str | None, typer.Option(help="Only events before this time (UTC if no zone)")] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="Only this event type (repeatable)")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Read these topics (repeatable); default all")] = None,
    pseudonym_key: Annotated[
        str | None,
        typer.Option(
            envvar=PSEUDONYM_KEY_ENV,
            show_envvar=True,
            help="Secret for the HMAC pseudonyms; without it a random one, so this export joins with no other",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it holds an earlier export")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Write OUT/type=<EventType>/program=<id>/month=<YYYY-MM>/part-*.parquet and OUT/_manifest.json."""
    request = ExportRequest(
        out=out,
        bootstrap=bootstrap,
        topics=tuple(topic or all_event_topics()),
        since=_moment(since, "--since"),
        until=_moment(until, "--until"),
        types=_types(type_),
        pseudonym_key=pseudonym_key or None,
        force=force,
    )
    if request.since and request.until and request.since >= request.until:
        raise typer.BadParameter("--since must be before --until", param_hint="--since")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # its connection errors are reported below, once
    try:
        manifest = _run(request, progress)
    except OutputRefused as exc:
        raise typer.BadParameter(str(exc), param_hint="OUT") from None
    except BrokerUnavailable as exc:
        typer.echo(f"export failed: {exc}", err=True)
        raise typer.Exit(1) from None
    except (KafkaError, OSError) as exc:  # the broker went away mid-read, the disk filled up…
        typer.echo(f"export failed: {exc!r}; nothing was written to {out}", err=True)
        raise typer.Exit(1) from None
    _report(out, manifest)


def _run(request: ExportRequest, show: bool) -> dict:
    if not show:
        return asyncio.run(export_history(request))
    columns = [
        TextColumn("[bold]export"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} records read"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("export", total=None)
        return asyncio.run(export_history(request, lambda read, total: bar.update(task, completed=read, total=total)))


def _report(out: Path, manifest: dict) -> None:
    skipped = manifest["skipped"]
    typer.echo(
        f"{manifest['events_written']:,} events of {len(manifest['by_type'])} types written to {out} "
        f"({manifest['files']} files) from {manifest['records_read']:,} records"
    )
    for name, counts in manifest["by_type"].items():
        typer.echo(f"  {name}: {counts['events']:,}")
    problems = [f"{skipped['invalid_envelope']} not a valid envelope"] if skipped["invalid_envelope"] else []
    problems += [f"{n} of unknown type {t}" for t, n in skipped["unknown_types"].items()]
    problems += [f"{n} {t} with an invalid payload" for t, n in skipped["invalid_payload"].items()]
    if problems:
        typer.echo("skipped: " + "; ".join(problems), err=True)
    if skipped["duplicates"]:
        typer.echo(f"{skipped['duplicates']:,} repeated events (same id) written once")
    if manifest["topics"]["missing"]:
        typer.echo(f"topics not on the broker: {', '.join(manifest['topics']['missing'])}", err=True)
    if manifest["topics"]["stopped_short"]:
        typer.echo(
            f"partitions that stopped short of their end: {', '.join(manifest['topics']['stopped_short'])}", err=True
        )
    typer.echo(f"pseudonym key: {manifest['personal_data']['pseudonym_key']}")
