"""For ``mentorship dev up`` and the tests: generate the plan and play it; wait until the dashboard shows it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx

from mentorship.devstack.demo.driver import DemoReport, Driver
from mentorship.devstack.demo.plan import Plan, Scale, generate
from mentorship.devstack.demo.settle import Settler
from shared.auth import Role, mint_token
from shared.bus import new_producer, topic_for
from shared.clock import DevClockFile

DEFAULT_SEED = 2026
# What the planned calls rely on: matching following registrations and closures, relationships following
# matches.  The HR feed is left out: profiles works through it in the background (thousands of facts), and
# nothing the plan does waits for it (participants register onto their HR record whenever it arrives).
GROUPS = {
    "matching": [topic_for("profiles"), topic_for("relationships")],
    "relationships": [topic_for("matching"), topic_for("profiles")],
}
PUBLISHERS = ("profiles", "matching", "relationships")
TIMED = ("matching", "relationships")  # their timers decide what the next planned call finds


def service_env(clock_file: Path) -> dict[str, str]:
    """What the services need for a demo run: the dev clock, and timer wheels that look often enough."""
    return {"MENTORSHIP_DEV_CLOCK_FILE": str(clock_file), "MENTORSHIP_TIMER_POLL_SECONDS": "0.05"}


async def play(
    scale: Scale,
    urls: Mapping[str, str],
    dsns: Mapping[str, str],
    bootstrap: str,
    clock_file: Path,
    secret: str,
    *,
    seed: int = DEFAULT_SEED,
    end: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Plan, DemoReport]:
    plan = generate(seed, scale, end or datetime.now(UTC).date())  # the window ends at today, UTC
    clock = DevClockFile(clock_file)
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        async with Settler({n: dsns[n] for n in PUBLISHERS}, bootstrap, GROUPS, TIMED) as settler:
            driver = Driver(plan, dict(urls), settler, clock, producer, secret, progress)
            report = await driver.run()
            report.programs = (await driver.play_programs()).lines()
    finally:
        clock.clear()
        await producer.stop()
    return plan, report


async def already_played(profiles_dsn: str) -> bool:
    """Whether profiles' database already holds events (a kept Postgres): the demo would collide with them."""
    conn = await asyncpg.connect(profiles_dsn)
    try:
        return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events)"))
    finally:
        await conn.close()


async def wait_for_dashboard(url: str, secret: str, requests: int, timeout: float = 120) -> dict:
    """Until analytics has projected every request and two reads a second apart agree."""
    headers = {"Authorization": f"Bearer {mint_token(secret, 'demo-analyst', [Role.analyst])}"}
    deadline = time.monotonic() + timeout
    last: dict | None = None
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < deadline:
            response = await http.get(f"{url}/dashboard.json", headers=headers)
            figures = response.json() if response.status_code == 200 else None
            if figures is not None and figures["requests"]["submitted"] >= requests and figures == last:
                return figures
            last = figures
            await asyncio.sleep(1)
    raise TimeoutError(f"analytics did not show the demo's {requests} requests within {timeout:.0f}s")
