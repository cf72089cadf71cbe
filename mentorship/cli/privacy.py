"""``mentorship privacy report|erase PERSON``: subject access (GDPR Art. 15) and erasure with receipts (Art. 17).

Each service answers ``GET /privacy/{person}`` (admins only) with the places where it keeps the person's
data (tables, its event store: rows, how many are still readable, what is sealed and whether the key
exists) and, once it handled their erasure, its receipt.  ``report`` puts the answers together;
``erase`` asks profiles to erase the person (``DELETE /participants/{person}``), waits until every
service has its receipt and prints what each removed or made unreadable.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from mentorship.cli.console import LiveConsole
from mentorship.cli.credentials import CredentialsError, bearer_for
from mentorship.stack import DEFAULT_PORTS
from shared.roles import Role

app = typer.Typer(help="Personal data: where a person's data lives, and erasure with receipts.", no_args_is_help=True)
out = LiveConsole(highlight=False)

SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")
ServiceUrls = Annotated[
    list[str] | None,
    typer.Option(
        "--service-url",
        help="NAME=URL of a service not on its default port (repeatable), e.g. matching=http://10.0.0.5:8002",
    ),
]
Host = Annotated[str, typer.Option(help="Where the services listen on their default ports")]


class Failed(Exception):
    """A service could not be asked; the message says which and why.  ``final``: asking again will not help."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


def _urls(host: str, overrides: list[str] | None) -> dict[str, str]:
    urls = {name: f"{host}:{DEFAULT_PORTS[name]}" for name in SERVICES}
    for item in overrides or []:
        name, sep, url = item.partition("=")
        if not sep or name not in urls or not url.startswith(("http://", "https://")):
            raise typer.BadParameter(
                f"{item!r}: expected NAME=URL with NAME one of {', '.join(SERVICES)} and an http(s) URL",
                param_hint="--service-url",
            )
        urls[name] = url.rstrip("/")
    return urls


def _headers(service: str) -> dict[str, str]:
    try:
        return {"Authorization": f"Bearer {bearer_for(service, 'privacy-cli', [Role.admin])}"}
    except CredentialsError as exc:
        raise Failed(f"{service}: {exc}") from None


def _ask(service: str, url: str, person: str) -> dict[str, Any]:
    try:
        response = httpx.get(f"{url}/privacy/{person}", headers=_headers(service), timeout=30)
    except httpx.HTTPError as exc:
        raise Failed(f"{service}: cannot reach {url} ({exc})") from None
    if response.status_code != 200:
        raise Failed(f"{service}: {response.status_code} {_detail(response)}", final=response.status_code < 500)
    return response.json()


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if response.status_code == 404 and detail == "Not Found":
        return "this service has no privacy endpoint (an older version?)"
    return str(detail or response.text[:200])


def _person(value: str) -> str:
    if not value.strip() or len(value) > 64 or any(c in value for c in "/?#\x00"):
        raise typer.BadParameter(f"{value!r} is not a participant id (1-64 characters, no / ? #)", param_hint="PERSON")
    return value


@app.command()
def report(
    person: Annotated[str, typer.Argument(help="The participant id", callback=_person)],
    host: Host = "http://127.0.0.1",
    service_url: ServiceUrls = None,
) -> None:
    """Where the person's data lives in every service: places, rows, what is still readable, sealed, keys."""
    urls = _urls(host, service_url)
    readable, failed = 0, False
    for service, url in urls.items():
        try:
            answer = _ask(service, url, person)
        except Failed as exc:
            out.print(f"[red]{exc}[/red]")
            failed = True
            continue
        readable += answer["readable"]
        _print_places(answer)
    if failed:
        raise typer.Exit(1)
    if readable:
        out.print(f"{person}: {readable:,} rows with readable personal data")
    else:
        out.print(f"{person}: nothing readable: no service holds personal data of theirs that can be read")


def _print_places(answer: dict[str, Any]) -> None:
    service, places = answer["service"], answer["places"]
    title = f"{service} ({answer['standing']}): {answer['readable']:,} readable rows"
    if not places:
        out.print(f"{title}; nothing held")
        return
    table = Table(title=title, title_justify="left")
    for column in ("place", "holds", "rows", "readable", "sealed", "key"):
        table.add_column(column, justify="right" if column in ("rows", "readable") else "left")
    for p in places:
        key = "" if p["key_exists"] is None else ("exists" if p["key_exists"] else "shredded")
        table.add_row(p["place"], p["holds"], f"{p['rows']:,}", f"{p['readable']:,}", "yes" if p["sealed"] else "", key)
    out.print(table)


@app.command()
def erase(
    person: Annotated[str, typer.Argument(help="The participant id", callback=_person)],
    host: Host = "http://127.0.0.1",
    service_url: ServiceUrls = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for every service's receipt", min=1)] = 120,
) -> None:
    """Erase the person (right to erasure), then print what each service removed or made unreadable."""
    urls = _urls(host, service_url)
    try:
        response = httpx.delete(f"{urls['profiles']}/participants/{person}", headers=_headers("profiles"), timeout=60)
    except httpx.HTTPError as exc:
        out.print(f"[red]profiles: cannot reach {urls['profiles']} ({exc})[/red]")
        raise typer.Exit(1) from None
    except Failed as exc:
        out.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if response.status_code != 204:
        out.print(f"[red]erasure refused by profiles ({response.status_code}): {_detail(response)}[/red]")
        raise typer.Exit(1)
    out.print(f"{person}: erased in profiles; waiting for every service's receipt")
    receipts, problems = _receipts(urls, person, wait)
    left = 0
    for service, receipt in receipts.items():
        left += _print_receipt(service, receipt)
    for problem in problems:
        out.print(f"[red]{problem}[/red]")
    if problems:
        raise typer.Exit(1)
    if left:
        out.print(f"[red]{person}: {left:,} rows still readable after erasure[/red]")
        raise typer.Exit(1)
    out.print(f"{person}: every service handled the erasure; nothing of theirs is readable")


def _receipts(urls: dict[str, str], person: str, wait: float) -> tuple[dict[str, dict], list[str]]:
    deadline = time.monotonic() + wait
    receipts: dict[str, dict] = {}
    errors: dict[str, str] = {}
    given_up: set[str] = set()
    while True:
        for service, url in urls.items():
            if service in receipts or service in given_up:
                continue
            try:
                answer = _ask(service, url, person)
            except Failed as exc:
                errors[service] = str(exc)
                if exc.final:  # refused (no endpoint, no admin role): waiting will not change it
                    given_up.add(service)
                continue
            errors.pop(service, None)
            if answer["erasure_receipt"] is not None:
                receipts[service] = answer["erasure_receipt"]
        if len(receipts) + len(given_up) == len(urls) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    missing = [s for s in urls if s not in receipts]
    problems = [
        errors.get(s, f"{s}: no erasure receipt after {wait:g} s (its consumer may be behind)") for s in missing
    ]
    return {s: receipts[s] for s in urls if s in receipts}, problems


def _print_receipt(service: str, receipt: dict[str, Any]) -> int:
    table = Table(title=f"{service}: erasure handled {receipt['erased_at']}", title_justify="left")
    for column in ("place", "holds", "readable before", "outcome", "rows left", "readable left"):
        table.add_column(column, justify="right" if "before" in column or "left" in column else "left")
    left = 0
    for p in receipt["places"]:
        left += p["readable_left"]
        table.add_row(
            p["place"],
            p["holds"],
            f"{p['readable_before']:,}",
            p["outcome"],
            f"{p['rows_left']:,}",
            f"{p['readable_left']:,}",
        )
    out.print(table)
    return left
