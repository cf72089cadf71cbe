"""The ``mentorship`` command."""

from __future__ import annotations

import typer

from mentorship.cli import dev, export, hr, outbox, privacy, replay, republish, schemas, token

app = typer.Typer(help="Mentoring-program platform: run it, mint tokens, generate schemas.", no_args_is_help=True)
app.add_typer(dev.app, name="dev")
app.add_typer(hr.app, name="hr")
app.add_typer(outbox.app, name="outbox")
app.add_typer(privacy.app, name="privacy")
app.command("token")(token.token)
app.command("schemas")(schemas.schemas)
app.command("replay")(replay.replay)
app.command("republish")(republish.republish)
app.command("export")(export.export)


def main() -> None:
    app()
