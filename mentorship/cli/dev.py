"""``mentorship dev up``: broker, Postgres and every service as its own process, on this machine."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, Progress, TimeElapsedColumn

from mentorship.cli.console import LiveConsole
from mentorship.devstack.broker import start_broker
from mentorship.devstack.datadir import claim, outbox_backlog, queue_refill
from mentorship.devstack.demo import SCALES
from mentorship.devstack.demo.run import (
    DEFAULT_SEED,
    already_played,
    play,
    service_env,
    service_overrides,
    wait_for_dashboard,
)
from mentorship.devstack.mailsink import MailSink, start_mail_sink
from mentorship.devstack.oidc import DEFAULT_PORT as OIDC_PORT
from mentorship.devstack.oidc import (
    DEV_PASSWORD,
    OPERATOR,
    OidcProvider,
    demo_accounts,
    person_token,
    start_oidc_provider,
)
from mentorship.devstack.postgres import Postgres, start_kept_postgres, start_postgres
from mentorship.stack import PORTAL, RunningService, portal_settings, start_services
from shared.auth import Role, mint_token
from shared.bus import SERVICES
from shared.settings import DEV_JWT_SECRET

app = typer.Typer(help="Run the whole platform locally (no Docker needed).", no_args_is_help=True)
console = LiveConsole()
DEMO_DIRECTOR_EMAIL = "director@demo.example"


class DemoScale(StrEnum):
    small = "small"
    full = "full"


def _raise_keyboard_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@app.command("up")
def up(
    log_dir: Annotated[Path, typer.Option(help="Where each process writes its log")] = Path(".mentorship/logs"),
    fixed_ports: Annotated[bool, typer.Option(help="Services on 8001-8005 (else free ports)")] = True,
    demo: Annotated[bool, typer.Option(help="Play the demo institution: HR feed and two years of activity")] = True,
    demo_scale: Annotated[
        DemoScale, typer.Option(help="small: 30 participants, about a minute; full: 190")
    ] = DemoScale.full,
    demo_seed: Annotated[int, typer.Option(help="Seed of the demo institution (same seed, same one)")] = DEFAULT_SEED,
    exit_when_ready: Annotated[bool, typer.Option(help="Stop everything once the stack is up (smoke test)")] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Keep every service's Postgres in this directory and use it again on the next start (a pilot on"
            " one machine); default: a fresh temporary stack",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Start broker, Postgres and every service; print where they are; Ctrl-C stops everything."""
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a background job may inherit it ignored
        signal.signal(signum, _raise_keyboard_interrupt)
    try:
        with ExitStack() as stack:
            kept = stack.enter_context(claim(data)) if data is not None else None
            console.print("[bold]starting the broker, Postgres, the sign-in provider and the mail sink…[/bold]")
            # Together: none needs another, and Postgres alone takes seconds (each one's stop is on the stack).
            with ThreadPoolExecutor(max_workers=4) as pool:
                starting = (
                    pool.submit(stack.enter_context, start_broker(log_dir=log_dir)),
                    pool.submit(stack.enter_context, start_kept_postgres(kept.postgres) if kept else start_postgres()),
                    pool.submit(
                        stack.enter_context,
                        start_oidc_provider(
                            port=OIDC_PORT if fixed_ports else None,
                            accounts=demo_accounts(demo_seed, demo_scale.value),
                            log_dir=log_dir,
                        ),
                    ),
                    pool.submit(_start_mail_sink, stack, kept.path / "mail" if kept else None, fixed_ports, log_dir),
                )
                broker, postgres, provider, sink = (future.result() for future in starting)
            console.print(f"broker: {broker.kind} at {broker.bootstrap}; postgres: {postgres.kind}")
            console.print(f"OpenID Connect provider (development): {provider.issuer}", highlight=False)
            if kept:
                kept.record_processes()
                console.print(f"data: {kept.path} (Postgres in {kept.postgres})", soft_wrap=True, highlight=False)
                _queue_refill(postgres)
            console.print("[bold]starting services…[/bold]")
            clock_file = log_dir.parent / "dev-clock"
            clock_file.unlink(missing_ok=True)  # a demo stopped half-way leaves it behind
            services = stack.enter_context(
                start_services(
                    postgres,
                    broker.bootstrap,
                    log_dir,
                    fixed_ports=fixed_ports,
                    extra_env={
                        **_service_settings(),
                        **(service_env(clock_file) if demo else {}),
                        **provider.service_env(),
                        "MENTORSHIP_DEV_MODE": "1",
                    },
                    service_env_overrides=_overrides(
                        service_overrides() if demo else {}, {"notifications": _mail_settings(sink)}
                    ),
                    started=kept.record_processes if kept else None,
                )
            )
            web = stack.enter_context(
                start_services(
                    postgres,
                    broker.bootstrap,
                    log_dir,
                    names=(PORTAL,),
                    fixed_ports=fixed_ports,
                    extra_env={
                        **_service_settings(),
                        **(service_env(clock_file) if demo else {}),  # its forms' "today" is the services' day
                        **provider.portal_env(),
                        **portal_settings(services, sink.url if sink else None),
                        "MENTORSHIP_DEV_MODE": "1",
                    },
                )
            )
            if kept:
                kept.record_processes()  # their children too (analytics' workers), and the portal
                _wait_for_refill(postgres, services)
            _print_where({**services, **web}, log_dir, provider, sink)  # usable now; the demo fills the dashboard
            if demo:
                _run_demo(services, postgres, broker.bootstrap, clock_file, demo_scale.value, demo_seed)
            if exit_when_ready:
                return
            console.print("[bold green]running[/bold green] — Ctrl-C stops everything")
            everything = [*services.values(), *web.values()]
            while all(s.process.is_running() for s in everything):
                time.sleep(0.5)
            dead = [s.name for s in everything if not s.process.is_running()]
            console.print(f"[red]service(s) exited: {', '.join(dead)}[/red]; stopping the rest")
            raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("stopped")
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]could not start the stack:[/red] {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


def _overrides(*layers: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Per-service settings merged, the later layer winning."""
    merged: dict[str, dict[str, str]] = {}
    for layer in layers:
        for name, env in layer.items():
            merged[name] = {**merged.get(name, {}), **env}
    return merged


def _service_settings() -> dict[str, str]:
    """A service's own settings from this environment (``MENTORSHIP_NOTIFICATIONS_SMTP_HOST``, …): a pilot's SMTP."""
    prefixes = tuple(f"MENTORSHIP_{name.upper()}_" for name in (*SERVICES, PORTAL))
    return {key: value for key, value in os.environ.items() if key.startswith(prefixes)}


def _start_mail_sink(stack: ExitStack, kept: Path | None, fixed_ports: bool, log_dir: Path) -> MailSink | None:
    """The development mail sink, unless this environment names an SMTP server for notifications (a pilot's).

    It keeps its mails in ``DIR/mail`` with ``--data DIR``, else in a directory removed at the end."""
    if any(key in os.environ for key in ("MENTORSHIP_NOTIFICATIONS_SMTP_HOST", "MENTORSHIP_NOTIFICATIONS_SMTP_PORT")):
        return None
    store = kept or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mentorship-mail-")))
    sink = stack.enter_context(start_mail_sink(store, fixed_ports=fixed_ports, log_dir=log_dir))
    console.print(
        f"mail sink (development): SMTP on {sink.smtp_host}:{sink.smtp_port}, what it received at {sink.url}/mails",
        soft_wrap=True,
        highlight=False,
    )
    return sink


def _mail_settings(sink: MailSink | None) -> dict[str, str]:
    """Notifications sends to the sink, and the demo's director (without a profile) gets the director's mails."""
    if sink is None:
        return {}
    directors = (
        {}
        if "MENTORSHIP_NOTIFICATIONS_DIRECTOR_EMAILS" in os.environ
        else {"MENTORSHIP_NOTIFICATIONS_DIRECTOR_EMAILS": f'["{DEMO_DIRECTOR_EMAIL}"]'}
    )
    return sink.notifications_env() | directors


def _queue_refill(postgres: Postgres) -> None:
    """The broker starts empty: queue every kept event store for publishing before any service (and consumer) runs."""
    queued = asyncio.run(queue_refill({name: postgres.dsn_for(f"mentorship_{name}") for name in SERVICES}))
    if total := sum(queued.values()):
        console.print(f"refilling the topics: {total:,} kept events queued for publishing")


def _wait_for_refill(postgres: Postgres, services: dict[str, RunningService], timeout: float = 300) -> None:
    dsns = {name: postgres.dsn_for(s.database) for name, s in services.items()}
    deadline = time.monotonic() + timeout
    while (backlog := asyncio.run(outbox_backlog(dsns))) > 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the topics were not refilled within {timeout:.0f}s ({backlog:,} events still queued)")
        time.sleep(0.5)


def _run_demo(
    services: dict[str, RunningService], postgres: Postgres, bootstrap: str, clock_file: Path, scale: str, seed: int
) -> None:
    """Two years of the demo institution through the services' APIs and the HR topic, on a steered clock."""
    urls = {name: s.url for name, s in services.items()}
    dsns = {name: postgres.dsn_for(s.database) for name, s in services.items()}
    if asyncio.run(already_played(dsns["profiles"])):
        console.print("demo: skipped, the databases already hold events (a Postgres kept from an earlier run)")
        return
    console.print(f"[bold]demo institution[/bold] ({scale}, seed {seed}): playing two years of activity…")
    secret = os.environ.get("MENTORSHIP_JWT_SECRET", DEV_JWT_SECRET)
    with Progress(
        "{task.description}",
        BarColumn(),
        "{task.completed}/{task.total}",
        TimeElapsedColumn(),
        console=console.now(),
        transient=True,
    ) as bar:
        task = bar.add_task("demo", total=None)
        plan, report = asyncio.run(
            play(
                SCALES[scale],
                urls,
                dsns,
                bootstrap,
                clock_file,
                secret,
                seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    people = plan.counts()
    console.print(
        f"demo: {len(plan.staff)} staff on hr.events, {people.get('register_mentor', 0)} mentors and "
        f"{people.get('register_mentee', 0)} mentees, {people.get('request', 0)} requests, "
        f"{people.get('meeting', 0)} meetings from {plan.start:%Y-%m-%d} to {plan.end:%Y-%m-%d}: {report}"
    )
    started = time.monotonic()
    try:
        asyncio.run(wait_for_dashboard(urls["analytics"], secret, people.get("request", 0)))
        console.print(f"demo: the dashboard caught up {time.monotonic() - started:.0f}s later")
    except TimeoutError as exc:  # the services hold the demo; the read side may still be catching up
        console.print(f"[yellow]demo: {exc}[/yellow]")
    console.print(
        f"dashboard: {urls['analytics']}/login, sign in as director or analyst (password {DEV_PASSWORD})",
        soft_wrap=True,
        highlight=False,
    )


def _print_where(
    services: dict[str, RunningService], log_dir: Path, provider: OidcProvider, sink: MailSink | None
) -> None:
    console.print("[bold]services[/bold] (API docs at /docs, readiness at /readyz, metrics at /metrics):")
    for service in services.values():
        console.print(
            f"  {service.name:<14} {service.url}/docs   log: {log_dir / (service.name + '.log')}",
            soft_wrap=True,
            highlight=False,
        )
    token = mint_token(DEV_JWT_SECRET, "dev-admin", [Role.admin])
    console.print(
        "development admin token (12 h; services accept these in development mode only; mint others with"
        " `mentorship token --role mentee --subject someone`):"
    )
    console.print(token, soft_wrap=True, highlight=False)
    console.print(
        f"try: curl -H 'Authorization: Bearer <token>' {services['matching'].url}/directory/mentors",
        soft_wrap=True,
        highlight=False,
    )
    _print_sign_in(services, provider, sink)


def _print_sign_in(services: dict[str, RunningService], provider: OidcProvider, sink: MailSink | None) -> None:
    """How to sign in as each kind of person, through the development provider."""
    people = {a.username: a for a in provider.accounts}
    console.print(
        f"[bold]sign in[/bold] at the development provider {provider.issuer} (password for everyone: {DEV_PASSWORD}):",
        soft_wrap=True,
        highlight=False,
    )
    if PORTAL in services:
        portal = services[PORTAL].url
        who = ", ".join(
            f"{username} ({people[username].name}, {people[username].employee_id})"
            for username in ("mentor", "mentee")
            if username in people
        )
        console.print(
            f"  [bold]the portal[/bold]: open {portal}/ and sign in as director (the program director), {who}",
            soft_wrap=True,
            highlight=False,
        )
        if sink:
            console.print(
                f"  the mails the platform sent (development): {portal}/dev/mail", soft_wrap=True, highlight=False
            )
    if "analytics" in services:
        console.print(
            f"  the director: open {services['analytics'].url}/login, sign in as director",
            soft_wrap=True,
            highlight=False,
        )
        console.print(
            f"  an analyst:   open {services['analytics'].url}/login, sign in as analyst",
            soft_wrap=True,
            highlight=False,
        )
    elsewhere = "" if provider.issuer.endswith(f":{OIDC_PORT}") else f" --issuer {provider.issuer}"
    for username in ("mentor", "mentee"):
        if username in people:
            who = people[username]
            console.print(
                f"  a {username}:     `mentorship dev sign-in {username} --service matching{elsewhere}` ({who.name},"
                f" {who.employee_id}; prints an access token for matching's API)",
                soft_wrap=True,
                highlight=False,
            )
    console.print(
        f"  the operator CLI (replay, republish, hr import): MENTORSHIP_OIDC_ISSUER={provider.issuer}"
        f" MENTORSHIP_CLI_CLIENT_ID={OPERATOR.client_id} MENTORSHIP_CLI_CLIENT_SECRET={OPERATOR.client_secret}"
        " MENTORSHIP_CLI_SCOPE=api",
        soft_wrap=True,
        highlight=False,
    )


@app.command("sign-in")
def sign_in(
    username: Annotated[str, typer.Argument(help="director, analyst, mentor or mentee (the provider's accounts)")],
    service: Annotated[str, typer.Option(help="The service the token is for (its audience)")] = "matching",
    issuer: Annotated[
        str, typer.Option(help="The development provider (`dev up` prints it)")
    ] = f"http://127.0.0.1:{OIDC_PORT}",
    password: Annotated[str, typer.Option(help="The account's password")] = DEV_PASSWORD,
) -> None:
    """Sign in at the development provider as a person (code flow with PKCE) and print their access token."""
    from shared.bus import SERVICES

    if service not in SERVICES:
        raise typer.BadParameter(f"not a service ({', '.join(SERVICES)})", param_hint="--service")
    try:
        typer.echo(person_token(issuer, username, service, password))
    except PermissionError:
        typer.echo(f"sign-in refused: unknown account {username!r} or wrong password", err=True)
        raise typer.Exit(1) from None
    except (httpx.HTTPError, RuntimeError) as exc:
        typer.echo(f"cannot sign in at {issuer}: {exc} (is `mentorship dev up` running?)", err=True)
        raise typer.Exit(1) from None
