"""``mentorship outbox parked|retry|drop``: events a service's outbox relay parked, and what to do with them.

The relay parks an event the broker refuses for good (e.g. larger than the bus takes) together with
the later events of the same aggregate, so that none of them overtakes it; every other aggregate keeps
flowing.  Each command works on one publishing service's own database (``--dsn``, or
``MENTORSHIP_PG_DSN`` as the service itself reads it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Annotated, TypeVar

import asyncpg
import typer
from rich.table import Table

from mentorship.cli.console import LiveConsole
from shared.outbox import drop_parked, parked_events, retry_parked

app = typer.Typer(
    help="Events the outbox relay parked because the broker refused them for good: list, retry or drop them.",
    no_args_is_help=True,
)
out = LiveConsole()

T = TypeVar("T")

Dsn = Annotated[
    str,
    typer.Option(
        "--dsn",
        envvar="MENTORSHIP_PG_DSN",
        show_envvar=True,
        help="The publishing service's own database (profiles, matching, relationships or notifications)",
    ),
]
Aggregate = Annotated[
    str | None, typer.Argument(help="The aggregate (stream id, e.g. a participant id) whose parked events to act on")
]
Everything = Annotated[bool, typer.Option("--all", help="Every parked aggregate of this service")]


class Refused(Exception):
    """Why a command could not run, in words for the operator."""


@app.command("parked")
def parked(
    dsn: Dsn,
    aggregate: Annotated[str | None, typer.Option(help="Only this aggregate (stream id)")] = None,
) -> None:
    """List the parked events: aggregate, event type, size, why, since when."""
    database, events = _run(dsn, lambda conn: parked_events(conn, aggregate))
    if not events:
        typer.echo(f"{database}: no parked events" + (f" for aggregate {aggregate!r}" if aggregate else ""))
        return
    table = Table(title=f"{database}: parked events, in publishing order")
    for column in ("aggregate", "version", "event type", "bytes", "parked since (UTC)", "reason"):
        table.add_column(column, overflow="fold")
    for event in events:
        since = event.parked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            event.stream_id, str(event.version), event.event_type, f"{event.size_bytes:,}", since, event.reason
        )
    out.print(table)
    aggregates = len({e.stream_id for e in events})
    typer.echo(f"{len(events)} parked events in {aggregates} aggregate{'s' if aggregates != 1 else ''}")


@app.command("retry")
def retry(dsn: Dsn, aggregate: Aggregate = None, everything: Everything = False) -> None:
    """Queue an aggregate's parked events for publishing again, in their order.

    E.g. after MENTORSHIP_MAX_EVENT_BYTES (and the topic's max.message.bytes) was raised.  If the broker
    still refuses one, the relay parks it, and those behind it, again.
    """
    stream = _chosen(aggregate, everything)
    database, count = _run(dsn, lambda conn: retry_parked(conn, stream))
    _nothing_parked(database, stream, count)
    typer.echo(f"{database}: {count} parked events {_of(stream)} queued for publishing again, in order")


@app.command("drop")
def drop(
    dsn: Dsn,
    aggregate: Aggregate = None,
    everything: Everything = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Give up publishing an aggregate's parked events: consumers never receive them.

    The events stay in the service's event store (the service's own state and history keep them;
    'mentorship republish' would queue them again), and the aggregate's later events are published as
    usual from now on.  Dropping is the operator's decision that the consumers can do without them.
    """
    stream = _chosen(aggregate, everything)
    if not yes:
        typer.confirm(f"Give up publishing the parked events {_of(stream)}? Consumers will never see them", abort=True)
    database, count = _run(dsn, lambda conn: drop_parked(conn, stream))
    _nothing_parked(database, stream, count)
    typer.echo(f"{database}: {count} parked events {_of(stream)} dropped; they stay in the event store, unpublished")


def _chosen(aggregate: str | None, everything: bool) -> str | None:
    if (aggregate is None) == (not everything):
        raise typer.BadParameter("name one AGGREGATE, or --all (not both)", param_hint="AGGREGATE")
    return aggregate


def _of(stream: str | None) -> str:
    return "of every aggregate" if stream is None else f"of aggregate {stream!r}"


def _nothing_parked(database: str, stream: str | None, count: int) -> None:
    if count == 0:
        typer.echo(f"{database}: no parked events {_of(stream)} (see `mentorship outbox parked`)", err=True)
        raise typer.Exit(1)


def _run(dsn: str, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> tuple[str, T]:
    """``action`` on one connection to the service's database (in one transaction); a message, not a
    traceback, when that database cannot be reached or is not a publishing service's."""
    try:
        return asyncio.run(_on_database(dsn, action))
    except Refused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


async def _on_database(dsn: str, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> tuple[str, T]:
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise Refused(f"cannot reach the database at --dsn {_redacted(dsn)}: {exc}") from None
    try:
        database = await conn.fetchval("SELECT current_database()")
        async with conn.transaction():
            return database, await action(conn)
    except asyncpg.UndefinedTableError:
        raise Refused(
            f"database {database!r} has no outbox_parked table: not a publishing service's database,"
            " or its service has not started since the upgrade that adds it"
        ) from None
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise Refused(f"database {database!r}: {exc}") from None
    finally:
        await conn.close()


def _redacted(dsn: str) -> str:
    """The DSN without its password, for messages."""
    scheme, sep, rest = dsn.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return dsn
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
