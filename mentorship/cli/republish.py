"""``mentorship republish``: refill the topics from every service's event store."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer

from mentorship.cli.credentials import CredentialsError, bearer_for
from mentorship.stack import DEFAULT_PORTS
from shared.roles import Role

PUBLISHERS = ("profiles", "matching", "relationships", "notifications")


def republish(
    service: Annotated[list[str] | None, typer.Option(help="Only these services (repeatable); default all")] = None,
    host: Annotated[str, typer.Option(help="Where the services listen (their default ports)")] = "http://127.0.0.1",
) -> None:
    """Queue every stored event for publishing again; consumers skip what they already handled."""
    chosen = service or list(PUBLISHERS)
    unknown = sorted(set(chosen) - set(PUBLISHERS))
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}: not a publishing service ({', '.join(PUBLISHERS)})", param_hint="--service"
        )
    failed = False
    for name in chosen:
        url = f"{host}:{DEFAULT_PORTS[name]}/admin/republish"
        try:
            headers = {"Authorization": f"Bearer {bearer_for(name, 'republish-cli', [Role.admin])}"}
            response = httpx.post(url, headers=headers, timeout=60)
            response.raise_for_status()
            typer.echo(f"{name}: {response.json()['queued']:,} events queued for publishing")
        except (httpx.HTTPError, CredentialsError) as exc:
            typer.echo(f"{name}: failed ({exc})", err=True)
            failed = True
    if failed:
        raise typer.Exit(1)
