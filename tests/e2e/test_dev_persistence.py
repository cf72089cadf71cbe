"""A pilot on one machine: ``mentorship dev up --data DIR`` survives ``kill -9`` of the whole stack.

The same deterministic program (``tests/faults/workload.py``) runs twice: once straight through, once
cut in half by ``SIGKILL`` of every process of the stack (``dev up``, the broker, every service, Postgres)
and a restart on the same directory. The dashboard's figures and the e-mails delivered (who got which,
each Message-ID once) must be the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import psutil
import pytest
from aiosmtpd.controller import Controller

from mentorship.devstack.processes import free_port
from shared.auth import Role, mint_token
from shared.settings import DEV_JWT_SECRET
from tests.e2e.cli import ROOT, plain
from tests.faults.workload import DIRECTOR_EMAIL, Api, Plan, Workload

pytestmark = pytest.mark.e2e

PLAN = Plan(mentors=2, mentees=4, capacity=4)
FIRST_HALF = range(2)  # these mentees are matched before the kill, the others after the restart
ANALYST = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'pilot-analyst', [Role.analyst])}"}
ADMIN = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'pilot-admin', [Role.admin])}"}
READY = "Ctrl-C stops everything"
DEV_UP = [sys.executable, "-m", "mentorship.cli", "dev", "up", "--no-demo", "--data"]


@dataclass
class Inbox:
    """An SMTP sink: every message delivered, as (recipient, subject), and how often each Message-ID came."""

    mails: Counter[tuple[str, str]] = field(default_factory=Counter)
    message_ids: Counter[str] = field(default_factory=Counter)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.mails[(str(message["To"]), str(message["Subject"]))] += 1
        self.message_ids[str(message["Message-ID"])] += 1
        return "250 2.0.0 OK"

    def introductions(self) -> int:
        return sum(n for (_, subject), n in self.mails.items() if "introduc" in subject.lower())


class DevUp:
    """``mentorship dev up --data DIR --no-demo`` as its own process; its services' URLs read from its output."""

    def __init__(self, data: Path, log_dir: Path, smtp_port: int) -> None:
        self.data, self.log_dir = data, log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "COLUMNS": "200",
            "MENTORSHIP_NOTIFICATIONS_SMTP_PORT": str(smtp_port),
            "MENTORSHIP_NOTIFICATIONS_DIRECTOR_EMAILS": json.dumps([DIRECTOR_EMAIL]),
            "MENTORSHIP_ANALYTICS_MIN_CELL": "1",  # a handful of people: withhold nothing
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.output = log_dir / "dev-up.out"
        self.starts = 0

    def start(self, timeout: float = 240) -> dict[str, str]:
        self.starts += 1
        self.output = self.log_dir / f"dev-up-{self.starts}.out"
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                [*DEV_UP, str(self.data), "--no-fixed-ports", "--log-dir", str(self.log_dir / f"logs-{self.starts}")],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while READY not in (text := self.output.read_text()):
            assert self.process.poll() is None, text
            assert time.monotonic() < deadline, text
            time.sleep(0.3)
        return {name: url for name, url in re.findall(r"^\s+(\w+)\s+(http://127\.0\.0\.1:\d+)/docs", text, re.M)}

    def processes(self) -> list[psutil.Process]:
        """``dev up``, everything it started, and the Postgres server on the directory (with its children)."""
        assert self.process is not None
        root = psutil.Process(self.process.pid)
        found = [root, *root.children(recursive=True)]
        pgdata = str(self.data / "postgres")
        for proc in psutil.process_iter(["name", "cmdline"]):
            if proc.info["name"] == "postgres" and pgdata in (proc.info["cmdline"] or []):
                found += [proc, *proc.children(recursive=True)]
        return found

    def kill_everything(self) -> int:
        """``SIGKILL`` every process of the stack at once; return how many there were."""
        procs = self.processes()
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(procs, timeout=10)
        self.process.wait(10)
        return len(procs)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill_everything()


async def first_half(workload: Workload) -> None:
    await workload._each(range(PLAN.mentors), workload.register_mentor)
    await workload._each(range(PLAN.mentees), workload.register_mentee)
    await workload.wait_for_directory()
    for i in FIRST_HALF:
        await workload.request_to_match(i)


async def second_half(workload: Workload) -> None:
    for i in range(PLAN.mentees):
        if i not in FIRST_HALF:
            await workload.request_to_match(i)
    await workload._each(range(PLAN.mentees), workload.relationship)


async def drive(urls: dict[str, str], *halves) -> None:
    api = Api({name: [url] for name, url in urls.items()})
    try:
        workload = Workload(api, PLAN, concurrency=2)
        for half in halves:
            await half(workload)
    finally:
        await api.close()


def settled(urls: dict[str, str], inbox: Inbox, matched: int, *, finished: bool = False, timeout: float = 120) -> dict:
    """The dashboard's figures once they show the plan's counts, every introduction is in the inbox, and the
    dashboard and the inbox have stayed the same for 3 s."""
    deadline = time.monotonic() + timeout
    last, stable_since = None, time.monotonic()
    while True:
        response = httpx.get(f"{urls['analytics']}/dashboard.json", headers=ANALYST, timeout=30)
        assert response.status_code == 200, response.text
        now = (_comparable(response.json()), sorted(inbox.mails.items()))
        if now != last:
            last, stable_since = now, time.monotonic()
        elif (
            _shows(now[0], matched, finished)
            and inbox.introductions() >= 2 * matched
            and time.monotonic() - stable_since >= 3
        ):
            return last[0]
        assert time.monotonic() < deadline, f"never settled: {inbox.introductions()} introductions, {last}"
        time.sleep(0.5)


def _shows(figures: dict, matched: int, finished: bool) -> bool:
    """Whether the figures count every registration and match so far, and (``finished``) every relationship step."""
    people = figures["participants"]
    counted = (people["mentors"], people["mentees"], figures["requests"]["matched"])
    if counted != (PLAN.mentors, PLAN.mentees, matched):
        return False
    if not finished:
        return True
    pairs = figures["relationships"]
    closures = sum(PLAN.closes(i) for i in range(PLAN.mentees))
    return (pairs["agreements_signed"], pairs["goals_set"], pairs["closed"], pairs["meetings_per_relationship"]) == (
        PLAN.mentees,
        PLAN.mentees,
        closures,
        1.0,
    )


def _comparable(figures: dict) -> dict:
    """The figures without the moment they were read at and how fast this machine matched (hours, as decimals)."""
    kept = {k: v for k, v in figures.items() if k != "as_of"}
    kept["requests"] = {k: v for k, v in figures["requests"].items() if k != "time_to_match_hours"}
    return kept


def run(data: Path, log_dir: Path, inbox: Inbox, port: int, *, kill_halfway: bool) -> dict:
    stack = DevUp(data, log_dir, port)
    try:
        urls = stack.start()
        if not kill_halfway:
            asyncio.run(drive(urls, first_half, second_half))
            return settled(urls, inbox, PLAN.mentees, finished=True)
        asyncio.run(drive(urls, first_half))
        before = settled(urls, inbox, len(FIRST_HALF))
        mails_before = Counter(inbox.mails)

        # The topics then hold every event twice (``mentorship republish``), and the consumers' offsets and
        # analytics' checkpoints lie past a history the restarted broker will hold once.
        for name in ("profiles", "matching", "relationships", "notifications"):
            queued = httpx.post(f"{urls[name]}/admin/republish", headers=ADMIN, timeout=30)
            assert queued.status_code == 202, queued.text
        assert settled(urls, inbox, len(FIRST_HALF)) == before
        assert inbox.mails == mails_before

        # A second stack on the same directory is refused, and starts nothing.
        second = subprocess.run(
            [*DEV_UP, str(data), "--exit-when-ready"],
            cwd=ROOT,
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1 and "is in use by a running stack" in plain(second.stdout), second.stdout

        assert stack.kill_everything() >= 7  # dev up, broker, five services, Postgres at least
        assert (data / "postgres" / "postmaster.pid").exists()  # the stale lock a crash leaves

        urls = stack.start()
        assert "kept events queued for publishing" in stack.output.read_text()
        # Everything was refilled and consumed again: nothing counted twice, no e-mail sent again.
        assert settled(urls, inbox, len(FIRST_HALF)) == before
        assert inbox.mails == mails_before

        asyncio.run(drive(urls, second_half))
        return settled(urls, inbox, PLAN.mentees, finished=True)
    finally:
        stack.stop()


def test_a_pilot_survives_kill_9_of_the_whole_stack(tmp_path: Path) -> None:
    straight, restarted = Inbox(), Inbox()
    controllers = []
    for inbox in (straight, restarted):
        controllers.append(Controller(inbox, hostname="127.0.0.1", port=free_port()))
        controllers[-1].start()
    try:
        clean = run(tmp_path / "clean", tmp_path / "clean-logs", straight, controllers[0].port, kill_halfway=False)
        killed = run(tmp_path / "pilot", tmp_path / "pilot-logs", restarted, controllers[1].port, kill_halfway=True)
    finally:
        for controller in controllers:
            controller.stop()

    assert killed == clean
    assert restarted.mails == straight.mails
    assert restarted.introductions() == 2 * PLAN.mentees
    assert max(restarted.message_ids.values()) == 1  # no e-mail delivered twice
    assert clean["requests"]["submitted"] == PLAN.mentees
