"""Plays a demo plan against the running services: HTTP for the program, ``hr.events`` for the HR feed.

Time: before each round of calls (``rounds.py``: the calls of one simulated day that no timer, boundary or
closure cuts, made together, each after the earlier ones about the same person, request or relationship) the
dev clock moves to the round's first planned moment, stopping at every timer due on the way (matching's
response deadlines, relationships' cadence and review checks) until it fired, so what the services stamp and
decide is what the plan foresaw.  At each settle boundary the driver
waits until the services have caught up (``settle.Settler``); after a closure, matching must have
followed it before its next decision on a mentor's load.  At the end the clock file is removed and
the services carry on in real time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from mentorship.devstack.demo.plan import Action, Person, Plan, Staff
from mentorship.devstack.demo.programs import ProgramsReport, play_programs
from mentorship.devstack.demo.rounds import Entities, dependencies, playing_order, take
from mentorship.devstack.demo.settle import Settler
from shared.auth import Role, mint_token
from shared.bus import HR_TOPIC
from shared.clock import DevClockFile
from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import Worker, WorkerHired, WorkerTerminated

DIRECTOR = "demo-director"
DECIDING = {"request", "review", "respond", "admin_match"}  # calls on which matching weighs mentors' load
CALLS_AT_ONCE = 8  # a round's calls in flight together: below a service's 16 requests served at once


class DemoError(RuntimeError):
    """A planned call the services refused: the plan and the services' rules disagree."""


@dataclass
class DemoReport:
    calls: int
    timer_steps: int
    seconds: float
    waiting: dict[str, float]  # seconds spent stepping timers, settling, and in calls
    programs: list[str] = field(default_factory=list)  # the three programs, one line each (``programs.py``)
    rounds: int = 0  # the rounds the calls were made in (``rounds.py``)

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v:.0f}s" for k, v in self.waiting.items())
        text = (
            f"{self.calls} calls in {self.rounds} rounds and {self.timer_steps} timer steps in {self.seconds:.0f}s"
            f" ({parts})"
        )
        return text + "".join(f"\n  program: {line}" for line in self.programs)


class Driver:
    def __init__(
        self,
        plan: Plan,
        urls: dict[str, str],
        settler: Settler,
        clock: DevClockFile,
        producer: Any,
        secret: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.plan, self.urls, self.settler, self.clock = plan, urls, settler, clock
        self.producer, self.secret, self.progress = producer, secret, progress
        self.staff = {s.employee_id: s for s in plan.staff}
        self.people = {p.participant_id: p for p in plan.people}
        self.requests: dict[str, str] = {}  # plan key → request id
        self.matches: dict[str, str] = {}  # plan match key → matching's request id (= match id)
        self.pairs: dict[str, str] = {}  # plan pair → relationship id
        self.goals: dict[str, str] = {}
        self.tokens: dict[tuple[str, Role], str] = {}
        self.calls = 0
        self.entities = Entities(plan)
        self.slots = asyncio.Semaphore(CALLS_AT_ONCE)

    async def run(self) -> DemoReport:
        started = time.monotonic()
        steps = rounds = 0
        self.clock.set(self.plan.start)
        script = playing_order(self.plan)
        waiting = {"timers": 0.0, "settling": 0.0, "calls": 0.0}

        def spent(what: str, since: float) -> float:
            now = time.monotonic()
            waiting[what] += now - since
            return now

        # One client for every call, its connections kept alive; at most CALLS_AT_ONCE calls in flight.
        limits = httpx.Limits(max_connections=CALLS_AT_ONCE, max_keepalive_connections=CALLS_AT_ONCE)
        async with httpx.AsyncClient(timeout=30, limits=limits) as self.http:
            changed = True  # whether a call since the last step may have set or moved a timer
            freed = False  # a closure matching may not have followed yet (it frees a mentor's slot)
            index = 0
            while index < len(script):
                at, action = script[index]
                mark = time.monotonic()
                if action is None:  # a settle boundary
                    if freed:
                        await self.settler.settle(groups=("matching",), rounds=1)
                        freed = False
                        mark = spent("settling", mark)
                    steps += await self.settler.step_to(self.clock, at, timers_may_have_changed=changed)
                    mark = spent("timers", mark)
                    await self.producer.flush()
                    await self.settler.settle()
                    spent("settling", mark)
                    changed, index = True, index + 1
                    self._progress(index, len(script))
                    continue
                if freed:
                    candidates = script[index : take(script, index, None)]
                    deciding = any(a is not None and a.kind in DECIDING for _, a in candidates)
                    if deciding or await self._timer_due_by(at):
                        await self.settler.settle(groups=("matching",), rounds=1)
                        freed = False
                        mark = spent("settling", mark)
                steps += await self.settler.step_to(self.clock, at, timers_may_have_changed=changed)
                mark = spent("timers", mark)
                end = take(script, index, self.settler.known_next_due)
                batch = [a for _, a in script[index:end] if a is not None]
                await self.play_round(batch)
                spent("calls", mark)
                rounds += 1
                changed = any(not a.kind.startswith("hr_") for a in batch)
                freed = freed or any(a.settle_after for a in batch)
                index = end
                self._progress(index, len(script))
            # up to real time, so what falls due between the plan's end and now fires on time as well
            steps += await self.settler.step_to(self.clock, max(self.plan.end, datetime.now(UTC)))
            await self.producer.flush()
            await self.settler.settle()
        self.clock.clear()
        return DemoReport(self.calls, steps, time.monotonic() - started, waiting, rounds=rounds)

    async def play_round(self, actions: list[Action]) -> None:
        """The round's calls together, each after the earlier ones touching what it touches (``rounds.py``).

        A refused call fails the round with its own ``DemoError`` (the others are cancelled)."""
        if len(actions) == 1:
            await self.perform(actions[0])
            return
        after = dependencies([self.entities.of(a) for a in actions])
        tasks: list[asyncio.Task[None]] = []

        async def one(k: int) -> None:
            if after[k]:
                await asyncio.gather(*(tasks[d] for d in after[k]))
            async with self.slots:
                await self.perform(actions[k])

        try:
            async with asyncio.TaskGroup() as group:
                tasks.extend(group.create_task(one(k)) for k in range(len(actions)))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None

    def _progress(self, done: int, total: int) -> None:
        if self.progress:
            self.progress(done, total)

    async def play_programs(self) -> ProgramsReport:
        """After the history, in real time: the demo's three programs (``programs.py``)."""
        async with httpx.AsyncClient(timeout=30) as self.http:
            return await play_programs(self.plan, self._call, DIRECTOR, Role.admin, Role.mentor, Role.mentee)

    async def _timer_due_by(self, at: datetime) -> bool:
        due = await self.settler.next_due()
        return due is not None and due <= at

    # --- calls --------------------------------------------------------------------------------------------

    async def perform(self, action: Action) -> None:
        await getattr(self, f"_{action.kind}")(action, **action.data)

    async def _hr_hire(self, action: Action, employee: str) -> None:
        s = self.staff[employee]
        await self._hr(
            WorkerHired(employee_id=employee, effective_date=s.hired_on, recorded_at=action.at, worker=_worker(s))
        )

    async def _hr_leave(self, action: Action, employee: str) -> None:
        s = self.staff[employee]
        assert s.left_on is not None and s.leave_type is not None
        await self._hr(
            WorkerTerminated(
                employee_id=employee, effective_date=s.left_on, recorded_at=action.at, termination_type=s.leave_type
            )
        )

    async def _register_mentor(self, action: Action, person: str) -> None:
        p = self.people[person]
        await self._call(
            "profiles",
            "POST",
            "/mentors",
            DIRECTOR,
            Role.admin,
            {
                **_registration(p),
                "capacity": p.capacity,
                "availability": {"accepting_requests": True, "formats": ["video", "in_person"]},
            },
        )

    async def _register_mentee(self, action: Action, person: str) -> None:
        await self._call("profiles", "POST", "/mentees", DIRECTOR, Role.admin, _registration(self.people[person]))

    async def _training(self, action: Action, training: str, completed_on: str) -> None:
        await self._call(
            "profiles",
            "POST",
            f"/participants/{action.actor}/training",
            action.actor,
            Role.mentor,
            {"kind": training, "completed_on": completed_on},
        )

    async def _request(self, action: Action, request: str, ranked: list[str]) -> None:
        p = self.people[action.actor]
        body = {
            "biography": _biography(p),
            "ranked_mentor_ids": ranked,
            "motivation": f"I would like guidance on {p.interests[0]} and on my next career step.",
        }
        answer = await self._call("matching", "POST", "/requests", action.actor, Role.mentee, body)
        self.requests[request] = answer["request_id"]

    async def _review(self, action: Action, request: str, approved: bool, reason: str | None = None) -> None:
        await self._call(
            "matching",
            "POST",
            f"/requests/{self.requests[request]}/review",
            DIRECTOR,
            Role.admin,
            {"approved": approved, "decline_reason": reason},
        )

    async def _respond(self, action: Action, request: str, accepted: bool, reason: str | None = None) -> None:
        await self._call(
            "matching",
            "POST",
            f"/requests/{self.requests[request]}/response",
            action.actor,
            Role.mentor,
            {"accepted": accepted, "reason": reason},
        )
        if accepted:
            self.matches[request] = self.requests[request]

    async def _admin_match(self, action: Action, request: str | None, match: str, mentee: str, mentor: str) -> None:
        request_id = self.requests[request] if request else await self._rematch_request_of(mentee)
        await self._call(
            "matching", "POST", f"/requests/{request_id}/match", DIRECTOR, Role.admin, {"mentor_id": mentor}
        )
        self.matches[match] = request_id

    async def _rematch_request_of(self, mentee: str) -> str:
        listing = await self._call("matching", "GET", "/requests?status=unmatched&limit=500", DIRECTOR, Role.admin)
        mine = [r for r in listing["items"] if r["mentee_id"] == mentee]
        if not mine:
            raise DemoError(f"no rematch request waits for {mentee} in the director's queue")
        return mine[-1]["request_id"]

    async def _agreement(
        self, action: Action, pair: str, match: str, mentee: str, mentor: str, format: str, goals: list[dict]
    ) -> None:
        listing = await self._call("relationships", "GET", "/relationships?limit=500", mentee, Role.mentee)
        found = [r for r in listing["items"] if r["match_id"] == self.matches[match]]
        if not found:
            raise DemoError(f"no relationship started for match {self.matches[match]} ({pair})")
        rid = self.pairs[pair] = found[0]["relationship_id"]
        terms = {"cadence_weeks_min": 6, "cadence_weeks_max": 8, "format": format, "goals": goals}
        draft = await self._call("relationships", "PUT", f"/relationships/{rid}/agreement", mentor, Role.mentor, terms)
        for party, role in ((mentor, Role.mentor), (mentee, Role.mentee)):
            await self._call(
                "relationships",
                "POST",
                f"/relationships/{rid}/agreement/signatures",
                party,
                role,
                {
                    "revision": draft["revision"],
                    "confidentiality_accepted": True,
                    "no_fault_termination_acknowledged": True,
                },
            )
        for goal in goals:
            self.goals[goal["goal_id"]] = goal["goal_id"]

    async def _meeting(
        self, action: Action, pair: str, held_on: str, format: str, duration_minutes: int, topics: list[str]
    ) -> None:
        body = {
            "held_on": held_on,
            "duration_minutes": duration_minutes,
            "format": format,
            "topic_tags": topics,
            "notes": f"Talked about {topics[0].replace('_', ' ')}; next steps agreed.",
        }
        await self._party_call(action, pair, "POST", "meetings", body)

    async def _goal(self, action: Action, pair: str, goal: str, text: str, measure: str, due_on: str) -> None:
        answer = await self._party_call(
            action,
            pair,
            "POST",
            "goals",
            {"mentee_id": action.actor, "text": text, "measure": measure, "due_on": due_on},
        )
        self.goals[goal] = answer["goal_id"]

    async def _goal_achieved(self, action: Action, pair: str, goal: str) -> None:
        await self._party_call(
            action, pair, "POST", f"goals/{self.goals[goal]}/progress", {"status": "achieved", "progress_percent": 100}
        )

    async def _review_agreement(self, action: Action, pair: str, outcome: str) -> None:
        await self._party_call(action, pair, "POST", "reviews", {"outcome": outcome})

    async def _close(self, action: Action, pair: str, reason: str, rematch: bool) -> None:
        await self._party_call(action, pair, "POST", "closure", {"reason": reason, "rematch_requested": rematch})

    async def _feedback(
        self, action: Action, pair: str, satisfaction: int, goals_met: bool, would_recommend: bool
    ) -> None:
        """The party answers the relationship's open closure survey, else its open annual-review survey (the surveys
        relationships opens at closure and at the review); none open (expired, or the program runs none): nothing."""
        role = Role.mentor if self.people[action.actor].role == "mentor" else Role.mentee
        mine = await self._call("relationships", "GET", "/surveys", action.actor, role)
        relationship_id = self.pairs[pair]
        open_here = {s["kind"]: s for s in mine["items"] if s.get("relationship_id") == relationship_id}
        survey = open_here.get("closure") or open_here.get("annual_review")
        if survey is None:
            return
        answers: dict[str, Any] = {}
        for question in survey["questions"]:
            qid = question["id"]
            if question["type"] == "scale":
                answers[qid] = satisfaction if qid == "satisfaction" else (4 if goals_met else 2)
            elif question["type"] == "choice":
                options = question["options"]
                wanted = {"recommend": "yes" if would_recommend else "no", "continue": "continue"}.get(qid)
                answers[qid] = wanted if wanted in options else options[0]
        await self._call(
            "relationships",
            "POST",
            f"/surveys/{survey['survey_id']}/responses",
            action.actor,
            role,
            {"answers": answers},
        )

    # --- plumbing -----------------------------------------------------------------------------------------

    async def _party_call(self, action: Action, pair: str, method: str, path: str, body: dict) -> Any:
        role = Role.mentor if self.people[action.actor].role == "mentor" else Role.mentee
        return await self._call(
            "relationships", method, f"/relationships/{self.pairs[pair]}/{path}", action.actor, role, body
        )

    async def _call(
        self,
        service: str,
        method: str,
        path: str,
        subject: str,
        role: Role,
        body: dict | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> Any:
        token = self.tokens.get((subject, role))
        if token is None:
            token = self.tokens[(subject, role)] = mint_token(self.secret, subject, [role])
        response = await self.http.request(
            method, self.urls[service] + path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        self.calls += 1
        if response.status_code not in ok:
            raise DemoError(
                f"{method} {service}{path} as {subject} at {self.clock_text()}: "
                f"{response.status_code} {response.text[:500]}"
            )
        return response.json() if response.content else None

    def clock_text(self) -> str:
        return self.clock.path.read_text() if self.clock.path.exists() else "real time"

    async def _hr(self, event: Event) -> None:
        envelope = Envelope(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"demo-hr:{self.plan.seed}:{event.type_name()}:{event.employee_id}"),
            source="/hr/demo",
            type=event.type_name(),
            time=event.recorded_at,
            subject=event.employee_id,
            correlationid=uuid.uuid4(),
            sequence=1,
            schemaversion=event.schema_version,
            data=event.model_dump(mode="json"),
        )
        await self.producer.send(HR_TOPIC, envelope.to_bytes(), key=event.employee_id.encode())
        self.calls += 1


def _worker(s: Staff) -> Worker:
    first = s.name.split()[0]
    return Worker(
        employee_id=s.employee_id,
        supervisor_id=s.supervisor_id,
        legal_name=s.name,
        preferred_name=first,
        work_email=s.email,
        title=s.title,
        job_function=s.job_function,
        department_id=s.department_id,
        department_name=s.department,
        location="Main campus",
        country="US",
        original_hire_date=s.hired_on,
        last_hire_date=s.hired_on,
    )


def _registration(p: Person) -> dict:
    return {
        "participant_id": p.participant_id,
        "employee_id": p.staff.employee_id,
        "name": p.staff.name,
        "email": p.staff.email,
        "profile": {
            "biography": _biography(p),
            "specialty": p.specialty,
            "interests": list(p.interests),
            "career_stage": p.career_stage,
            "job_function": p.staff.job_function,
            "department": p.staff.department,
            "location": "Main campus",
            "time_zone": "America/Chicago",
            "languages": ["en"],
        },
        **_demographics(p.participant_id),
    }


GENDERS = ("woman", "woman", "man", "man", "Woman", "man ", "non-binary")
ORIGINS = ("White", "Black or African American", "Asian", "Hispanic or Latino", "white", "Asian")


def _demographics(participant_id: str) -> dict:
    """Answers given with consent by four in five participants (a fixed function of the id, so the plan's random
    choices stay as they were), with the spellings people use; the rest give none. They show in the dashboard's
    breakdowns by consented demographics, counted by profiles."""
    n = zlib.crc32(participant_id.encode())
    if n % 5 == 0:
        return {}
    return {
        "demographics": {
            "consented": True,
            "gender": GENDERS[n % len(GENDERS)],
            "race_ethnicity": ORIGINS[(n // 7) % len(ORIGINS)],
            "first_generation": (n // 11) % 3 == 0,
        }
    }


def _biography(p: Person) -> str:
    return f"{p.staff.title} in {p.staff.department}, working on {p.specialty}."
