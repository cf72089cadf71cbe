"""``mentorship replay``: rebuild the analytics projections from the whole event history."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from mentorship.cli.credentials import CredentialsError, bearer_for
from shared.roles import Role


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 timestamp, e.g. 2026-06-30T23:59:59Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def replay(
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Build the projections as they stood at this moment (UTC if no zone): a snapshot kept beside the"
            " live ones, for directors (admin) only, within the service's cap and expiry"
        ),
    ] = None,
    url: Annotated[str, typer.Option(help="The analytics service")] = "http://127.0.0.1:8005",
    wait: Annotated[bool, typer.Option(help="Follow the replay with a progress bar until it ends")] = True,
) -> None:
    """Replay every topic from the beginning into fresh tables; they replace the live ones when caught up."""
    moment = _as_of(as_of)
    try:
        # As-of snapshots are the director's (admin); a full rebuild an analyst may start too.
        role = Role.admin if moment else Role.analyst
        headers = {"Authorization": f"Bearer {bearer_for('analytics', 'replay-cli', [role])}"}
    except CredentialsError as exc:
        typer.echo(f"replay: {exc}", err=True)
        raise typer.Exit(1) from None
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            started = client.post("/replays", json={"as_of": moment.isoformat() if moment else None})
            if started.status_code != 202:
                typer.echo(f"replay refused ({started.status_code}): {started.json().get('detail')}", err=True)
                raise typer.Exit(1)
            status = started.json()
            typer.echo(
                f"replay into generation {status['generation']} started"
                + (f" (as of {moment.isoformat()})" if moment else "")
            )
            if wait:
                status = _follow(client, status)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach the analytics service at {url}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"generation {status['generation']}: {status['state']}; {status['read']:,} events read, "
        f"{status['applied']:,} applied, {status['events_per_second']:,.0f} events/s"
        + (f"; error: {status['error']}" if status.get("error") else "")
    )
    if status["state"] == "failed":
        raise typer.Exit(1)


def _follow(client: httpx.Client, status: dict) -> dict:
    columns = [
        TextColumn("[bold]replay"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} events"),
        TextColumn("{task.fields[rate]:,.0f} ev/s"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns) as progress:
        task = progress.add_task("replay", total=max(status["total_estimate"], 1), rate=0.0)
        while status["state"] == "running":
            time.sleep(0.5)
            status = client.get(f"/replays/{status['generation']}").json()
            progress.update(
                task,
                completed=status["read"],
                total=max(status["total_estimate"], status["read"], 1),
                rate=status["events_per_second"],
            )
    return status
