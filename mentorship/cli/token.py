"""``mentorship token``: mint a development bearer token (HS256), for development only.

Services accept these only in development mode (``MENTORSHIP_DEV_MODE=1``, as ``mentorship dev up`` and the tests run
them); outside it they accept only the institution's OpenID Connect provider's tokens. So the command refuses when
the environment names a provider and is not in development mode, and warns when it is simply not in development mode.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated

import typer

from mentorship.cli.credentials import dev_mode
from shared.roles import Role, mint_token
from shared.settings import DEV_JWT_SECRET


def token(
    role: Annotated[list[Role], typer.Option("--role", "-r", help="Repeat for several roles")],
    subject: Annotated[str, typer.Option("--subject", "-s", help="Participant or client id")] = "dev-admin",
    hours: Annotated[float, typer.Option(min=0.01, max=12, help="Lifetime in hours (services refuse over 12)")] = 12,
) -> None:
    """Print a development JWT signed with MENTORSHIP_JWT_SECRET (or the development secret)."""
    if not subject.strip():
        raise typer.BadParameter("must not be empty", param_hint="--subject")
    if not dev_mode():
        if os.environ.get("MENTORSHIP_OIDC_ISSUER"):
            typer.echo(
                "mentorship token: refused: MENTORSHIP_OIDC_ISSUER is set and MENTORSHIP_DEV_MODE is not, so the"
                " services accept only the provider's tokens (operators: MENTORSHIP_CLI_CLIENT_ID/_SECRET)",
                err=True,
            )
            raise typer.Exit(2)
        typer.echo(
            "warning: a development token: services accept it only in development mode (MENTORSHIP_DEV_MODE=1)",
            err=True,
        )
    secret = os.environ.get("MENTORSHIP_JWT_SECRET", DEV_JWT_SECRET)
    typer.echo(mint_token(secret, subject, role, ttl=timedelta(hours=hours)))
