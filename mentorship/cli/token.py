"""``mentorship token``: mint a development bearer token."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated

import typer

from shared.auth import Role, mint_token
from shared.settings import DEV_JWT_SECRET


def token(
    role: Annotated[list[Role], typer.Option("--role", "-r", help="Repeat for several roles")],
    subject: Annotated[str, typer.Option("--subject", "-s", help="Participant or client id")] = "dev-admin",
    hours: Annotated[float, typer.Option(min=0.01, max=24 * 30, help="Lifetime in hours")] = 12,
) -> None:
    """Print a JWT signed with MENTORSHIP_JWT_SECRET (or the development secret)."""
    if not subject.strip():
        raise typer.BadParameter("must not be empty", param_hint="--subject")
    secret = os.environ.get("MENTORSHIP_JWT_SECRET", DEV_JWT_SECRET)
    typer.echo(mint_token(secret, subject, role, ttl=timedelta(hours=hours)))
