"""``mentorship dev up``: broker, Postgres and every service as its own process, on this machine."""

from __future__ import annotations

import signal
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from shared.auth import Role, mint_token
from shared.devstack.broker import start_broker
from shared.devstack.postgres import start_postgres
from shared.settings import DEV_JWT_SECRET
from shared.stack import RunningService, start_services

app = typer.Typer(help="Run the whole platform locally (no Docker needed).", no_args_is_help=True)
console = Console()

DEMO_MENTORS = [
    ("Dr. Ada Okafor", "cardiology", ["heart failure", "grant writing"], "senior", 3),
    ("Dr. Luis Romero", "oncology", ["clinical trials", "work/life balance"], "mid_career", 2),
    ("Prof. Mei Chen", "neuroscience", ["manuscripts", "negotiation"], "senior", 4),
    ("Dr. Sam Patel", "pediatrics", ["time management", "funding"], "mid_career", 1),
    ("Dr. Ines Duarte", "public health", ["community outreach", "funding"], "early_career", 2),
]


def _raise_keyboard_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@app.command("up")
def up(
    log_dir: Annotated[Path, typer.Option(help="Where each process writes its log")] = Path(".mentorship/logs"),
    fixed_ports: Annotated[bool, typer.Option(help="Services on 8001-8005 (else free ports)")] = True,
    demo: Annotated[bool, typer.Option(help="Register demo mentors and follow them to matching")] = True,
    exit_when_ready: Annotated[bool, typer.Option(help="Stop everything once the stack is up (smoke test)")] = False,
) -> None:
    """Start broker, Postgres and every service; print where they are; Ctrl-C stops everything."""
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a background job may inherit it ignored
        signal.signal(signum, _raise_keyboard_interrupt)
    try:
        with ExitStack() as stack:
            console.print("[bold]starting the broker and Postgres…[/bold]")
            broker = stack.enter_context(start_broker(log_dir=log_dir))
            postgres = stack.enter_context(start_postgres())
            console.print(f"broker: {broker.kind} at {broker.bootstrap}; postgres: {postgres.kind}")
            console.print("[bold]starting services…[/bold]")
            services = stack.enter_context(
                start_services(postgres, broker.bootstrap, log_dir, fixed_ports=fixed_ports)
            )
            if demo:
                _run_demo(services)
            _print_where(services, log_dir)
            if exit_when_ready:
                return
            console.print("[bold green]running[/bold green] — Ctrl-C stops everything")
            while all(s.process.is_running() for s in services.values()):
                time.sleep(0.5)
            dead = [s.name for s in services.values() if not s.process.is_running()]
            console.print(f"[red]service(s) exited: {', '.join(dead)}[/red]; stopping the rest")
            raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("stopped")
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]could not start the stack:[/red] {exc}")
        raise typer.Exit(1) from None


def _run_demo(services: dict[str, RunningService]) -> None:
    """The walking skeleton: mentors registered in profiles reach matching's directory over the bus."""
    admin = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'demo-director', [Role.admin])}"}
    profiles, matching = services["profiles"].url, services["matching"].url
    started = time.monotonic()
    for i, (name, specialty, interests, stage, capacity) in enumerate(DEMO_MENTORS):
        body = {
            "participant_id": f"demo-mentor-{i + 1}",
            "name": name,
            "email": f"demo.mentor{i + 1}@example.edu",
            "capacity": capacity,
            "profile": {"biography": f"{name} mentors in {specialty}.", "specialty": specialty,
                        "interests": interests, "career_stage": stage},
        }
        response = httpx.post(f"{profiles}/mentors", json=body, headers=admin, timeout=10)
        if response.status_code not in (201, 409):
            raise RuntimeError(f"demo registration failed: {response.status_code} {response.text}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        total = httpx.get(f"{matching}/directory/mentors", headers=admin, timeout=10).json()["total"]
        if total >= len(DEMO_MENTORS):
            console.print(
                f"demo: {len(DEMO_MENTORS)} mentors registered in profiles reached matching's directory "
                f"in {time.monotonic() - started:.2f}s"
            )
            return
        time.sleep(0.2)
    raise RuntimeError("demo mentors did not reach matching's directory within 30s")


def _print_where(services: dict[str, RunningService], log_dir: Path) -> None:
    console.print("[bold]services[/bold] (API docs at /docs, readiness at /readyz, metrics at /metrics):")
    for service in services.values():
        console.print(f"  {service.name:<14} {service.url}/docs   log: {log_dir / (service.name + '.log')}",
                      soft_wrap=True, highlight=False)
    token = mint_token(DEV_JWT_SECRET, "dev-admin", [Role.admin])
    console.print("admin token (12 h; mint others with `mentorship token --role mentee --subject someone`):")
    console.print(token, soft_wrap=True, highlight=False)
    console.print(
        f"try: curl -H 'Authorization: Bearer <token>' {services['matching'].url}/directory/mentors",
        soft_wrap=True, highlight=False,
    )
