"""A deterministic program workload driven through the services' real HTTP APIs.

Mentors and mentees register (profiles); each mentee ranks two mentors, the director approves, the
mentors answer in turn (matching); the relationship that ``MatchApproved`` starts gets an agreement,
signatures, a goal, a meeting and, for some, a closure (relationships); notifications records its
intents along the way.  The same parameters give the same end state, whatever faults hit the services
meanwhile: every command is retried until it is known to have taken effect exactly once.

A command whose outcome is unknown (the connection broke after the request went out, or a 5xx) is
first *checked* (did it take effect?) and only then sent again, so the driver itself never duplicates
an effect: any duplicate found afterwards is the platform's.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from shared.auth import Role, mint_token
from shared.settings import DEV_JWT_SECRET

DIRECTOR_ID = "director-1"
DIRECTOR_EMAIL = "director@example.edu"
SPECIALTIES = ("cardiology", "oncology", "neurology", "pediatrics")
STAGES = ("early_career", "mid_career", "senior")


REFUSED_SKIP_SECONDS = 5.0  # a replica that refused a connection is left out of the rotation this long


def mentor_id(j: int) -> str:
    return f"mentor-{j:03d}"


def mentee_id(i: int) -> str:
    return f"mentee-{i:03d}"


def bearer(subject: str, *roles: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, list(roles))}"}


class WorkloadError(RuntimeError):
    pass


@dataclass
class Stats:
    commands: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


Check = Callable[[], Awaitable[bool]]


class Api:
    """HTTP calls that survive dead replicas, restarts and outages, without doubling an effect.

    ``urls`` maps a service to its replicas' base URLs; calls rotate over them and move on to the
    next one when a replica does not answer.
    """

    def __init__(
        self, urls: Mapping[str, Sequence[str]], *, timeout: float = 180.0, stats: Stats | None = None
    ) -> None:
        self.urls = {name: list(u) for name, u in urls.items()}
        self._turn = {name: itertools.cycle(range(len(u))) for name, u in self.urls.items()}
        self.timeout = timeout
        self.stats = stats or Stats()
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=3.0))
        self._refused: dict[str, float] = {}  # base URL → until when it is skipped (it refused a connection)

    async def close(self) -> None:
        await self.client.aclose()

    def _url(self, service: str, path: str) -> str:
        """The next replica in turn that has not just refused a connection (any, if all have).

        Without the skip, a retried command whose check (``applied``) and resend take turns on a shared
        rotation can land on a dead replica every time: two replicas, two calls per round.
        """
        urls = self.urls[service]
        for _ in urls:
            url = urls[next(self._turn[service])]
            if self._refused.get(url, 0.0) <= time.monotonic():
                break
        return url + path

    def _note_refused(self, url: str) -> None:
        base = next((u for urls in self.urls.values() for u in urls if url.startswith(u)), url)
        self._refused[base] = time.monotonic() + REFUSED_SKIP_SECONDS

    async def read(self, service: str, path: str, headers: dict[str, str], params: dict | None = None) -> Any:
        """A GET retried until it answers 200."""
        deadline = time.monotonic() + self.timeout
        while True:
            url = self._url(service, path)
            try:
                response = await self.client.get(url, headers=headers, params=params)
                if response.status_code == 200:
                    return response.json()
                last = f"{response.status_code} {response.text[:300]}"
                if response.status_code < 500:
                    raise WorkloadError(f"GET {service}{path}: {last}")
            except httpx.ConnectError as exc:
                last = repr(exc)
                self._note_refused(url)
            except httpx.HTTPError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise WorkloadError(f"GET {service}{path}: {last}")
            self.stats.retries += 1
            await asyncio.sleep(0.3)

    async def command(
        self,
        service: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        *,
        ok: Callable[[httpx.Response], bool] = lambda r: r.status_code < 300,
        again: Callable[[httpx.Response], bool] = lambda r: False,
        applied: Check | None = None,
        retry_client_errors: Callable[[httpx.Response], bool] = lambda r: False,
    ) -> httpx.Response | None:
        """Send until ``ok``; returns the answer, or None when a retry found the command already applied.

        ``again(response)``: after an unknown outcome, this answer means "it took effect the first time".
        ``applied()``: asked after an unknown outcome, before sending again.
        ``retry_client_errors(response)``: a 4xx that is expected to pass (e.g. an event not consumed yet).
        """
        deadline = time.monotonic() + self.timeout
        uncertain = False
        answered = "none"  # the last thing a replica that could be reached said: what a give-up is about
        while True:
            if uncertain and applied is not None and await self._checked(applied):
                return None
            started = time.perf_counter()
            url = self._url(service, path)
            try:
                response = await self.client.request(method, url, headers=headers, json=body)
            except httpx.ConnectError as exc:  # never reached the service: safe to send again
                last = repr(exc)
                self._note_refused(url)
            except httpx.HTTPError as exc:
                last, uncertain = repr(exc), True
                answered = last
            else:
                if ok(response):
                    self.stats.commands += 1
                    self.stats.latencies.append(time.perf_counter() - started)
                    return response
                if uncertain and again(response):
                    self.stats.commands += 1
                    return None
                last = answered = f"{response.status_code} {response.text[:500]}"
                if response.status_code >= 500:
                    uncertain = True
                elif not retry_client_errors(response):
                    self.stats.errors += 1
                    raise WorkloadError(f"{method} {service}{path}: {last}")
            if time.monotonic() > deadline:
                self.stats.errors += 1
                raise WorkloadError(f"{method} {service}{path} gave up: {last} (last answer: {answered})")
            self.stats.retries += 1
            await asyncio.sleep(0.3)

    async def _checked(self, applied: Check) -> bool:
        try:
            return await applied()
        except (httpx.HTTPError, WorkloadError):
            return False


@dataclass(frozen=True)
class Plan:
    """The shape of the workload: who registers, who ranks whom, who declines, who closes."""

    mentors: int = 4
    mentees: int = 8
    capacity: int = 6

    def ranking(self, i: int) -> list[str]:
        return [mentor_id(i % self.mentors), mentor_id((i + 1) % self.mentors)]

    def first_choice_declines(self, i: int) -> bool:
        return i % 3 == 0

    def closes(self, i: int) -> bool:
        return i % 4 == 1


def profile(n: int, kind: str) -> dict[str, Any]:
    return {
        "biography": f"{kind} number {n}, clinician scientist.",
        "specialty": SPECIALTIES[n % len(SPECIALTIES)],
        "interests": ["grant writing", SPECIALTIES[(n + 1) % len(SPECIALTIES)]],
        "career_stage": STAGES[n % len(STAGES)] if kind == "mentor" else "early_career",
        "time_zone": "America/Chicago",
        "languages": ["en"],
    }


class Workload:
    """Drives one deterministic program; ``phase`` tells how far it got (for fault timing)."""

    def __init__(self, api: Api, plan: Plan = Plan(), *, concurrency: int = 4) -> None:
        self.api = api
        self.plan = plan
        self.concurrency = concurrency
        self.phase = "idle"
        self.admin = bearer(DIRECTOR_ID, Role.admin)
        self.relationships: dict[str, str] = {}  # mentee → relationship id

    async def run(self) -> None:
        p = self.plan
        self.phase = "registering"
        await self._each(range(p.mentors), self.register_mentor)
        await self._each(range(p.mentees), self.register_mentee)
        self.phase = "waiting for the directory"
        await self.wait_for_directory()
        self.phase = "matching"
        await self._each(range(p.mentees), self.request_to_match)
        self.phase = "relationships"
        await self._each(range(p.mentees), self.relationship)
        self.phase = "done"

    async def _each(self, items: range, step: Callable[[int], Awaitable[None]]) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(i: int) -> None:
            async with gate:
                await step(i)

        await asyncio.gather(*(one(i) for i in items))

    # profiles ---------------------------------------------------------------------------------
    async def register_mentor(self, j: int) -> None:
        body = {
            "participant_id": mentor_id(j),
            "name": f"Mentor {j}",
            "email": f"mentor{j}@example.edu",
            "capacity": self.plan.capacity,
            "profile": profile(j, "mentor"),
        }
        await self.api.command("profiles", "POST", "/mentors", self.admin, body, again=_status(409))

    async def register_mentee(self, i: int) -> None:
        body = {
            "participant_id": mentee_id(i),
            "name": f"Mentee {i}",
            "email": f"mentee{i}@example.edu",
            "profile": profile(i, "mentee"),
        }
        await self.api.command("profiles", "POST", "/mentees", self.admin, body, again=_status(409))

    async def wait_for_directory(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            page = await self.api.read("matching", "/directory/mentors", self.admin, {"limit": 200})
            if page["total"] >= self.plan.mentors:
                return
            if time.monotonic() > deadline:
                raise WorkloadError(f"matching's directory holds {page['total']} of {self.plan.mentors} mentors")
            await asyncio.sleep(0.3)

    # matching ---------------------------------------------------------------------------------
    async def request_to_match(self, i: int) -> None:
        mentee = bearer(mentee_id(i), Role.mentee)

        async def own_request() -> str | None:
            page = await self.api.read("matching", "/requests", mentee)
            items = page["items"] if isinstance(page, dict) else page
            return items[0]["request_id"] if items else None

        async def submitted() -> bool:
            return await own_request() is not None

        body = {
            "biography": f"Mentee {i} biography.",
            "motivation": "Grow as a researcher.",
            "ranked_mentor_ids": self.plan.ranking(i),
        }
        # Refused until matching has consumed the mentee's registration: retry, it is eventual.
        response = await self.api.command(
            "matching",
            "POST",
            "/requests",
            mentee,
            body,
            applied=submitted,
            retry_client_errors=lambda r: r.status_code == 409 and "not a registered mentee" in r.text,
        )
        request_id = response.json()["request_id"] if response is not None else await own_request()
        assert request_id is not None
        await self.api.command(
            "matching", "POST", f"/requests/{request_id}/review", self.admin, {"approved": True}, again=_status(409)
        )
        first, second = self.plan.ranking(i)
        if self.plan.first_choice_declines(i):
            await self._respond(request_id, first, accepted=False)
            await self._respond(request_id, second, accepted=True)
        else:
            await self._respond(request_id, first, accepted=True)

    async def _respond(self, request_id: str, mentor: str, *, accepted: bool) -> None:
        await self.api.command(
            "matching",
            "POST",
            f"/requests/{request_id}/response",
            bearer(mentor, Role.mentor),
            {"accepted": accepted, "reason": None if accepted else "No time this term."},
            again=lambda r: r.status_code in (403, 409),
        )

    # relationships ----------------------------------------------------------------------------
    async def relationship(self, i: int) -> None:
        mentee, mentor = mentee_id(i), self._matched_mentor(i)
        as_mentee, as_mentor = bearer(mentee, Role.mentee), bearer(mentor, Role.mentor)
        rid = await self._wait_for_relationship(as_mentee)
        self.relationships[mentee] = rid

        async def detail() -> dict[str, Any]:
            return await self.api.read("relationships", f"/relationships/{rid}", as_mentor)

        async def proposed() -> bool:
            return (await detail())["agreement"] is not None

        terms = {"cadence_weeks_min": 6, "cadence_weeks_max": 8, "format": "video"}
        await self.api.command(
            "relationships", "PUT", f"/relationships/{rid}/agreement", as_mentor, terms, applied=proposed
        )
        revision = (await detail())["agreement"]["revision"]
        signature = {"revision": revision, "confidentiality_accepted": True, "no_fault_termination_acknowledged": True}
        for who, auth in ((mentee, as_mentee), (mentor, as_mentor)):

            async def signed(who: str = who) -> bool:
                return who in ((await detail())["agreement"] or {}).get("signatures", {})

            await self.api.command(
                "relationships",
                "POST",
                f"/relationships/{rid}/agreement/signatures",
                auth,
                signature,
                applied=signed,
                again=_status(409),
            )

        async def goal_set() -> bool:
            return len((await detail())["goals"]) > 0

        due = (date.today() + timedelta(days=180)).isoformat()
        await self.api.command(
            "relationships",
            "POST",
            f"/relationships/{rid}/goals",
            as_mentee,
            {"text": "Submit a K award", "measure": "application sent", "due_on": due},
            applied=goal_set,
        )

        async def met() -> bool:
            return len((await detail())["meetings"]) > 0

        await self.api.command(
            "relationships",
            "POST",
            f"/relationships/{rid}/meetings",
            as_mentor,
            {
                "held_on": date.today().isoformat(),
                "duration_minutes": 45,
                "format": "video",
                "topic_tags": ["goals"],
                "notes": f"private notes {i}",
            },
            applied=met,
        )
        if self.plan.closes(i):
            await self.api.command(
                "relationships",
                "POST",
                f"/relationships/{rid}/closure",
                as_mentee,
                {"reason": "no_fault_mentee"},
                again=_status(409),
            )

    def _matched_mentor(self, i: int) -> str:
        first, second = self.plan.ranking(i)
        return second if self.plan.first_choice_declines(i) else first

    async def _wait_for_relationship(self, as_mentee: dict[str, str], timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            page = await self.api.read("relationships", "/relationships", as_mentee)
            if page["items"]:
                return page["items"][0]["relationship_id"]
            if time.monotonic() > deadline:
                raise WorkloadError("no relationship started from the match")
            await asyncio.sleep(0.3)


def _status(*codes: int) -> Callable[[httpx.Response], bool]:
    return lambda response: response.status_code in codes
