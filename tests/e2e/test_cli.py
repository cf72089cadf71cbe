"""The ``mentorship`` command as a user runs it: clear messages, no tracebacks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from shared.auth import Role, TokenVerifier
from shared.settings import DEV_JWT_SECRET
from tests.e2e import cli
from tests.e2e.cli import ROOT, plain

pytestmark = pytest.mark.e2e


def mentorship(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return cli.mentorship(*args, timeout=timeout)


def test_token_is_verifiable_and_carries_roles() -> None:
    result = mentorship("token", "--role", "mentee", "--role", "mentor", "--subject", "m-42")
    assert result.returncode == 0, result.stderr
    principal = asyncio.run(TokenVerifier(dev_secret=DEV_JWT_SECRET).verify(result.stdout.strip()))
    assert principal.subject == "m-42" and principal.roles == {Role.mentee, Role.mentor}


def test_token_is_for_development_only() -> None:
    production = {k: v for k, v in os.environ.items() if k != "MENTORSHIP_DEV_MODE"}
    warned = cli.mentorship("token", "--role", "admin", env=production)
    assert warned.returncode == 0 and "accept it only in development mode" in plain(warned.stderr)
    refused = cli.mentorship("token", "--role", "admin", env=production | {"MENTORSHIP_OIDC_ISSUER": "https://idp"})
    assert refused.returncode == 2 and "refused" in refused.stderr and not refused.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "--role", "superuser"), "'superuser' is not one of"),
        (("token",), "Missing option '--role'"),
        (("token", "--role", "admin", "--subject", " "), "must not be empty"),
        (("schemas", "--root", "/tmp"), "is not the repository root"),
    ],
)
def test_bad_input_gets_a_message_not_a_traceback(args: tuple[str, ...], message: str) -> None:
    result = mentorship(*args)
    assert result.returncode == 2
    assert message in plain(result.stderr)
    assert "Traceback" not in result.stderr


def test_schemas_check_passes_on_the_checked_in_files() -> None:
    result = mentorship("schemas", "--check")
    assert result.returncode == 0, result.stdout


def test_dev_up_brings_the_stack_up_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    """Without the demo (``tests/e2e/test_demo.py`` plays it), so this stays fast."""
    output = tmp_path / "dev-up.out"
    with output.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mentorship.cli",
                "dev",
                "up",
                "--no-fixed-ports",
                "--no-demo",
                "--log-dir",
                str(tmp_path),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while "Ctrl-C stops everything" not in output.read_text():
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 9  # broker, provider, mail sink, five services and the portal (+ Postgres)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    text = output.read_text()
    assert "demo institution" not in text
    assert text.rstrip().endswith("stopped")
    for service in ("profiles", "matching", "relationships", "notifications", "analytics", "portal"):
        assert f"{service} " in text and (tmp_path / f"{service}.log").exists()
    assert "mail sink (development): SMTP on 127.0.0.1:" in text and "/dev/mail" in text
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def test_service_entry_point_explains_bad_settings_and_migrates_alone(postgres) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIP_")}
    missing = subprocess.run(
        [sys.executable, "-m", "services.matching"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "MENTORSHIP_PG_DSN: Field required" in missing.stderr
    assert "Traceback" not in missing.stderr

    database = f"migrate_{uuid.uuid4().hex[:8]}"
    env["MENTORSHIP_PG_DSN"] = postgres.create_database(database)
    try:
        runs = [
            subprocess.run(
                [sys.executable, "-m", "services.matching", "--migrate-only"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            for _ in range(2)
        ]
    finally:
        postgres.drop_database(database)
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert "shared.migrations:001_event_store.sql" in runs[0].stdout
    assert "matching: 0 migration(s) applied" in runs[1].stdout
