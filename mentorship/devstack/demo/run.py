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
    """What the services need for a demo run: the dev clock.

    A timer wheel on the dev clock looks for due timers as soon as the clock file changes, and the driver
    writes it again while a step's timers have not fired (``Settler._fired``), so the wheels' poll is only the
    fallback: 0.5 s, not 0.05 s (every service's wheel looking 20 times a second cost about a tenth of a core
    for the whole demo, measured with ``ps`` on an idle stack)."""
    return {"MENTORSHIP_DEV_CLOCK_FILE": str(clock_file), "MENTORSHIP_TIMER_POLL_SECONDS": "0.5"}


UNWAITED = ("profiles", "notifications", "analytics")
"""The consumers the demo never waits for (profiles follows the HR feed, notifications sends mails, analytics
projects): ``service_overrides`` lets their idle fetches wait longer."""


def service_overrides() -> dict[str, dict[str, str]]:
    """Per service, for a demo run: the consumers nothing waits for fetch with a 200 ms wait instead of 20 ms.

    An idle consumer asks the broker again at each wait's end: at 20 ms the idle stack cost the broker and these
    services about a fifth of a core during the whole demo (``ps`` on an idle stack: 43 % of a core in all, 24 %
    with this and the wheels' poll above).  Matching and relationships keep 20 ms: the demo's settling waits for
    them.  Busy consumers are not slowed: a fetch returns at once when records wait."""
    return {name: {"MENTORSHIP_CONSUMER_FETCH_MAX_WAIT_MS": "200"} for name in UNWAITED}


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
