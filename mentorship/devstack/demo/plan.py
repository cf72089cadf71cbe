"""A seeded plan of the demo institution: staff, participants, and every call the demo will make, in time order.

Pure: ``generate(seed, scale, end)`` gives the same plan for the same arguments.  It simulates the
program with the services' own rules, so every planned call is one they accept: matching's
eligibility (active, open slot) and capacity, forwarding to the ranked mentors in turn with a 7-day
deadline (a missed one passes the request on when matching's timer fires), an admin match for what
stays unmatched, relationships' phases (agreement, meetings, goals, closure, then feedback).

Effects that cross services travel on the bus, so the plan puts anything that needs another
service's reaction after the next *settle boundary* (every ``Scale.settle_days``), where the driver
waits until the services have caught up; a closure frees its mentor's slot at once, so the driver
lets matching follow it before matching's next decision on a mentor's load (``settle_after``).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any

from mentorship.devstack.demo.people import (
    DECLINES,
    DEPARTMENTS,
    FIRST,
    FORMATS,
    GOALS,
    LAST,
    MENTOR_DECLINES,
    TITLES,
    TOPICS,
)

DAY = timedelta(days=1)
RESPONSE_DAYS = 7  # matching's default response deadline


@dataclass(frozen=True)
class Scale:
    staff: int
    departments: int
    mentors: int
    mentees: int
    days: int = 730
    settle_days: int = 7


SCALES = {
    "small": Scale(staff=200, departments=5, mentors=8, mentees=22, days=730, settle_days=28),
    "full": Scale(staff=2500, departments=14, mentors=40, mentees=150, days=730, settle_days=14),
}


@dataclass(frozen=True)
class Staff:
    employee_id: str
    name: str
    email: str
    department_id: str
    department: str
    supervisor_id: str | None
    title: str
    job_function: str
    hired_on: date
    hire_recorded_at: datetime
    left_on: date | None = None
    leave_recorded_at: datetime | None = None
    leave_type: str | None = None


@dataclass(frozen=True)
class Person:
    participant_id: str
    role: str  # mentor or mentee
    staff: Staff
    specialty: str
    interests: tuple[str, ...]
    career_stage: str
    capacity: int = 0


@dataclass(frozen=True)
class Action:
    """One call of the demo: ``kind`` names it, ``actor`` is the participant, ``director`` or ``hr``."""

    at: datetime
    kind: str
    actor: str
    data: dict[str, Any] = field(default_factory=dict, compare=False)
    settle_after: bool = False


@dataclass
class Plan:
    seed: int
    scale: Scale
    start: datetime
    end: datetime
    staff: list[Staff]
    people: list[Person]
    actions: list[Action]

    def boundaries(self) -> list[datetime]:
        """The settle boundaries: every ``settle_days`` from the start, before the end."""
        step = timedelta(days=self.scale.settle_days)
        return [
            self.start + i * step
            for i in range(1, self.scale.days // self.scale.settle_days + 1)
            if self.start + i * step < self.end
        ]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for action in self.actions:
            found[action.kind] = found.get(action.kind, 0) + 1
        return dict(sorted(found.items()))


def generate(seed: int, scale: Scale, end: date) -> Plan:
    return _Simulation(seed, scale, end).run()


# --- the simulation -----------------------------------------------------------------------------------


@dataclass
class _Mentor:
    person: Person
    load: int = 0


@dataclass
class _Request:
    key: str
    mentee: str
    ranked: list[str]
    tried: int = 0


class _Simulation:
    def __init__(self, seed: int, scale: Scale, end: date) -> None:
        self.rng = random.Random(seed)
        self.seed, self.scale = seed, scale
        self.end = datetime.combine(end, time.min, tzinfo=UTC)
        self.start = self.end - scale.days * DAY
        self.actions: list[Action] = []
        self.queue: list[tuple[datetime, int, Callable[..., None], tuple]] = []
        self.seq = count()
        self.mentors: dict[str, _Mentor] = {}
        self.registered_at: dict[str, datetime] = {}
        self.busy: set[str] = set()  # mentees with an open request or a current mentor
        self.keys = count(1)

    # time ---------------------------------------------------------------------------------------------

    def later(self, t: datetime, low_days: float, high_days: float) -> datetime:
        """A working-hours moment ``low..high`` days after ``t`` (never before it)."""
        at = t + timedelta(days=self.rng.uniform(low_days, high_days))
        if at.hour < 8:
            at = at.replace(hour=8 + self.rng.randrange(3))
        elif at.hour >= 18:
            at = (at + DAY).replace(hour=8 + self.rng.randrange(3))
        at = at.replace(second=0, microsecond=0)
        return at if at > t else t + timedelta(minutes=1)

    def boundary_after(self, t: datetime) -> datetime:
        """The first settle boundary strictly after ``t``: effects of ``t`` are on every service by then."""
        step = self.scale.settle_days
        return self.start + ((t - self.start) // timedelta(days=step) + 1) * timedelta(days=step)

    def after_settle(self, t: datetime, low_days: float, high_days: float) -> datetime:
        return self.later(max(t, self.boundary_after(t)), low_days, high_days)

    def inside(self, t: datetime) -> bool:
        return self.start < t < self.end

    def emit(self, at: datetime, kind: str, actor: str, settle_after: bool = False, **data: Any) -> None:
        assert self.inside(at), (kind, at)
        self.actions.append(Action(at, kind, actor, data, settle_after))

    def at(self, t: datetime, fn: Callable[..., None], *args: Any) -> None:
        if self.inside(t):
            heapq.heappush(self.queue, (t, next(self.seq), fn, args))

    # the institution ------------------------------------------------------------------------------------

    def run(self) -> Plan:
        staff = self.hire_staff()
        people = self.enrol(staff)
        while self.queue:
            t, _, fn, args = heapq.heappop(self.queue)
            fn(t, *args)
        for s in self.staff:  # the HR feed: every hire, then every leaver, when HR records it
            self.emit(s.hire_recorded_at, "hr_hire", "hr", employee=s.employee_id)
            if s.left_on is not None and s.leave_recorded_at is not None:
                self.emit(s.leave_recorded_at, "hr_leave", "hr", employee=s.employee_id)
        self.actions.sort(key=lambda a: a.at)  # stable: same-moment actions keep their causal order
        return Plan(self.seed, self.scale, self.start, self.end, self.staff, people, self.actions)

    def hire_staff(self) -> list[Staff]:
        rng, scale = self.rng, self.scale
        departments = DEPARTMENTS[: scale.departments]
        self.staff: list[Staff] = []
        for i in range(scale.staff):
            dept_id, dept, _, _ = departments[i % len(departments)] if i < len(departments) else rng.choice(departments)
            head = i < len(departments)
            function = "faculty" if head else rng.choices(list(TITLES), weights=(4, 3, 2, 1))[0]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            employee_id = f"E{10001 + i}"
            if head or rng.random() < 0.85:  # on the payroll before the window: the feed sends them at its start
                hired_on = self.start.date() - timedelta(days=rng.randrange(60, 30 * 365))
                recorded = self.start + timedelta(minutes=1 + i // 100)
            else:  # hired during the window, recorded ahead of the start date (forward-dated)
                hired_on = self.start.date() + timedelta(days=rng.randrange(30, scale.days - 30))
                recorded = datetime.combine(
                    hired_on - timedelta(days=rng.randrange(3, 21)), time(9, rng.randrange(60)), tzinfo=UTC
                )
            self.staff.append(
                Staff(
                    employee_id=employee_id,
                    name=f"{first} {last}",
                    email=f"{first}.{last}.{i + 1}@example.edu".lower(),
                    department_id=dept_id,
                    department=dept,
                    supervisor_id=None if head else self.heads()[dept_id],
                    title="Department Chair" if head else rng.choice(TITLES[function]),
                    job_function=function,
                    hired_on=hired_on,
                    hire_recorded_at=recorded,
                )
            )
        return self.staff

    def heads(self) -> dict[str, str]:
        return {s.department_id: s.employee_id for s in self.staff[: self.scale.departments]}

    def enrol(self, staff: list[Staff]) -> list[Person]:
        rng, scale = self.rng, self.scale
        candidates = [s for s in staff[scale.departments :]]
        rng.shuffle(candidates)
        senior = [s for s in candidates if s.job_function in ("faculty", "clinical") and s.hired_on < self.start.date()]
        mentor_staff = senior[: scale.mentors]
        taken = {s.employee_id for s in mentor_staff}
        mentee_staff = [s for s in candidates if s.employee_id not in taken][: scale.mentees]
        people: list[Person] = []
        for s in mentor_staff:
            person = self.person(
                "mentor",
                s,
                rng.choice(("senior", "mid_career")),
                capacity=rng.choices((1, 2, 3, 4), weights=(2, 4, 3, 1))[0],
            )
            people.append(person)
            launch = rng.random() < 0.7
            t = self.later(self.start + DAY, 0, 30) if launch else self.later(self.start, 30, 540)
            self.at(max(t, s.hire_recorded_at + timedelta(hours=1)), self.register, person)
        for s in mentee_staff:
            person = self.person("mentee", s, rng.choice(("trainee", "early_career", "student")))
            people.append(person)
            earliest = max(
                self.start + DAY,
                datetime.combine(s.hired_on + 14 * DAY, time(9), tzinfo=UTC),
                s.hire_recorded_at + DAY,
            )
            first_intake = rng.random() < 0.25 and earliest < self.start + 10 * DAY
            t = (
                self.later(earliest, 0, 40)
                if first_intake
                else self.later(earliest, 0, max((self.end - 150 * DAY - earliest).days, 1))
            )
            self.at(t, self.register, person)
        self.by_id = {p.participant_id: p for p in people}
        self.leavers(staff, taken | {s.employee_id for s in mentee_staff})
        return people

    def person(self, role: str, s: Staff, stage: str, capacity: int = 0) -> Person:
        """Staff register onto their own HR record: the participant id is the employee id."""
        _, _, specialties, interests = next(d for d in DEPARTMENTS if d[0] == s.department_id)
        picks = tuple(self.rng.sample(interests + tuple(self.rng.sample(TOPICS, 2)), 2))
        return Person(s.employee_id, role, s, self.rng.choice(specialties), picks, stage, capacity)

    def leavers(self, staff: list[Staff], participants: set[str]) -> None:
        """About 7% of staff leave each year; participants are left out (their leaving is planned with them)."""
        for i, s in enumerate(staff):
            if s.employee_id in participants or i < self.scale.departments or self.rng.random() > 0.14:
                continue
            first = max(s.hired_on + 60 * DAY, self.start.date() + 5 * DAY)
            last = self.end.date() - 35 * DAY
            if first >= last:
                continue
            self.leave(i, first + timedelta(days=self.rng.randrange((last - first).days)))

    def leave(self, i: int, left_on: date) -> None:
        s = self.staff[i]
        back_dated = self.rng.random() < 0.3
        shift = self.rng.randrange(1, 30) if back_dated else -self.rng.randrange(1, 14)
        recorded = _moment(left_on + timedelta(days=shift), 10, self.rng.randrange(60))
        recorded = min(max(recorded, s.hire_recorded_at + DAY, self.start + DAY), self.end - timedelta(hours=1))
        kind = self.rng.choices(("voluntary", "retirement", "end_of_contract", "involuntary"), weights=(6, 2, 3, 1))[0]
        self.staff[i] = Staff(**{**vars(s), "left_on": left_on, "leave_recorded_at": recorded, "leave_type": kind})

    # the program ------------------------------------------------------------------------------------------

    def register(self, t: datetime, person: Person) -> None:
        self.emit(t, f"register_{person.role}", person.participant_id, person=person.participant_id)
        self.registered_at[person.participant_id] = t
        if person.role == "mentor":
            self.mentors[person.participant_id] = _Mentor(person)
            if self.rng.random() < 0.6:
                self.at(self.later(t, 3, 60), self.training, person)
        else:
            self.at(self.after_settle(t, 1, 25), self.submit, person.participant_id)

    def training(self, t: datetime, person: Person) -> None:
        done_on = (t - timedelta(days=self.rng.randrange(0, 3))).date()
        self.emit(
            t,
            "training",
            person.participant_id,
            training=self.rng.choice(("workshop", "handbook")),
            completed_on=max(done_on, self.registered_at[person.participant_id].date()).isoformat(),
        )

    def open_mentors(self, t: datetime) -> list[_Mentor]:
        """Mentors matching's directory holds with a slot free (registered before the last settle)."""
        return [
            m
            for pid, m in self.mentors.items()
            if m.load < m.person.capacity and self.boundary_after(self.registered_at[pid]) <= t
        ]

    def submit(self, t: datetime, mentee: str) -> None:
        if mentee in self.busy:
            return
        open_now = self.open_mentors(t)
        if not open_now:
            self.at(self.later(t, 10, 20), self.submit, mentee)
            return
        me = self.person_of(mentee)
        weights = [4 if m.person.staff.department_id == me.staff.department_id else 1 for m in open_now]
        k = min(self.rng.choices((1, 2, 3), weights=(2, 3, 5))[0], len(open_now))
        ranked: list[str] = []
        while len(ranked) < k:
            pick = self.rng.choices(open_now, weights=weights)[0].person.participant_id
            if pick not in ranked:
                ranked.append(pick)
        request = _Request(f"req-{next(self.keys)}", mentee, ranked)
        self.busy.add(mentee)
        self.emit(t, "request", mentee, request=request.key, ranked=ranked)
        self.at(self.later(t, 0.2, 4), self.review, request)

    def review(self, t: datetime, request: _Request) -> None:
        if self.rng.random() < 0.1:
            self.emit(t, "review", "director", request=request.key, approved=False, reason=self.rng.choice(DECLINES))
            self.busy.discard(request.mentee)
            if self.rng.random() < 0.6:
                self.at(self.later(t, 14, 45), self.submit, request.mentee)
            return
        self.emit(t, "review", "director", request=request.key, approved=True)
        self.forward(t, request)

    def forward(self, t: datetime, request: _Request) -> None:
        """To the next eligible choice (as matching does), with its response deadline; none left: unmatched."""
        while request.tried < len(request.ranked):
            mentor = self.mentors[request.ranked[request.tried]]
            request.tried += 1
            if mentor.load >= mentor.person.capacity:
                continue
            respond_by = t + RESPONSE_DAYS * DAY
            roll = self.rng.random()
            if roll < 0.18:
                self.at(respond_by, self.expired, request)
            else:
                answer = min(self.later(t, 0.1, 6), respond_by - timedelta(hours=1))
                self.at(answer, self.respond, request, mentor, roll < 0.78)
            return
        self.at(self.later(t, 1, 8), self.admin_match, request.mentee, request.key, set(request.ranked))

    def expired(self, t: datetime, request: _Request) -> None:
        self.forward(t, request)  # matching's timer does it: the plan has no call here

    def respond(self, t: datetime, request: _Request, mentor: _Mentor, accepting: bool) -> None:
        mid = mentor.person.participant_id
        if accepting and mentor.load < mentor.person.capacity:
            self.emit(t, "respond", mid, request=request.key, accepted=True)
            self.matched(t, request.mentee, mentor, request.key)
            return
        self.emit(t, "respond", mid, request=request.key, accepted=False, reason=self.rng.choice(MENTOR_DECLINES))
        self.forward(t, request)

    def admin_match(self, t: datetime, mentee: str, request: str | None, avoid: set[str]) -> None:
        """The director places an unmatched request (or a rematch) with the mentor who has most room."""
        open_now = [m for m in self.open_mentors(t) if m.person.participant_id not in avoid]
        if not open_now:
            return  # stays in the director's queue
        mentor = max(open_now, key=lambda m: (m.person.capacity - m.load, m.person.participant_id))
        match = request or f"rematch-{next(self.keys)}"
        self.emit(
            t,
            "admin_match",
            "director",
            request=request,
            match=match,
            mentee=mentee,
            mentor=mentor.person.participant_id,
        )
        self.matched(t, mentee, mentor, match)

    def matched(self, t: datetime, mentee: str, mentor: _Mentor, match: str) -> None:
        mentor.load += 1
        self.busy.add(mentee)
        pair = f"pair-{next(self.keys)}"
        self.at(self.after_settle(t, 1, 10), self.agree, pair, mentee, mentor, match)

    # relationships ---------------------------------------------------------------------------------------

    def agree(self, t: datetime, pair: str, mentee: str, mentor: _Mentor, match: str) -> None:
        rng, mid = self.rng, mentor.person.participant_id
        goals = [
            {
                "goal_id": f"{pair}-g{n}",
                "text": text,
                "measure": measure,
                "due_on": (t + timedelta(days=rng.randrange(150, 360))).date().isoformat(),
            }
            for n, (text, measure) in enumerate(rng.sample(GOALS, rng.choice((1, 2))), 1)
        ]
        style = rng.choices(("steady", "drifting", "sporadic"), weights=(55, 30, 15))[0]
        fmt = rng.choice(FORMATS)
        self.emit(t, "agreement", mid, pair=pair, match=match, mentee=mentee, mentor=mid, format=fmt, goals=goals)
        ending = rng.choices(("achieved", "no_fault", "ongoing"), weights=(50, 20, 30))[0]
        close_at = {"achieved": self.later(t, 270, 540), "no_fault": self.later(t, 60, 240), "ongoing": self.end + DAY}[
            ending
        ]
        rel = _Rel(pair, mentee, mid, style, fmt, t, close_at, ending)
        self.meetings(rel)
        for goal in goals:
            if rng.random() < 0.65:
                self.goal_achieved(rel, goal["goal_id"], t, date.fromisoformat(goal["due_on"]))
        if rng.random() < 0.3:
            self.at(self.later(t, 60, 180), self.extra_goal, rel)
        review_due = t.date() + timedelta(days=365)
        if self.inside(_moment(review_due, 12)) and close_at.date() > review_due + 25 * DAY:
            self.at(self.later(_moment(review_due, 9), 1, 20), self.review_agreement, rel)
        self.at(close_at, self.close, rel, mentor)

    def meetings(self, rel: _Rel) -> None:
        rng = self.rng
        held = rel.agreed + timedelta(days=rng.uniform(7, 30))
        gap = rng.uniform(35, 56)
        while True:
            logged = self.later(held, 0, 3)
            if logged >= rel.close_at or not self.inside(logged):
                return
            by = rng.choice((rel.mentor, rel.mentee))
            self.at(logged, self.meeting, rel, by, held.date())
            if rel.style == "drifting":
                gap *= rng.uniform(1.05, 1.3)
            elif rel.style == "sporadic":
                gap = rng.uniform(50, 110)
            else:
                gap = rng.uniform(35, 56)
            held += timedelta(days=gap)

    def meeting(self, t: datetime, rel: _Rel, by: str, held_on: date) -> None:
        self.emit(
            t,
            "meeting",
            by,
            pair=rel.pair,
            held_on=held_on.isoformat(),
            format=rel.format,
            duration_minutes=self.rng.choice((30, 45, 60, 90)),
            topics=self.rng.sample(TOPICS, 2),
        )
        rel.meetings += 1

    def goal_achieved(self, rel: _Rel, goal_id: str, since: datetime, due: date) -> None:
        until = min(datetime.combine(due, time(12), tzinfo=UTC), rel.close_at - DAY, self.end - DAY)
        if until > since + 30 * DAY:
            self.at(self.later(since, 30, (until - since).days), self.achieve, rel, goal_id)

    def achieve(self, t: datetime, rel: _Rel, goal_id: str) -> None:
        if t < rel.close_at:
            self.emit(t, "goal_achieved", rel.mentee, pair=rel.pair, goal=goal_id)
            rel.achieved += 1

    def extra_goal(self, t: datetime, rel: _Rel) -> None:
        if t >= rel.close_at:
            return
        text, measure = self.rng.choice(GOALS)
        due = t.date() + timedelta(days=self.rng.randrange(90, 240))
        goal_id = f"{rel.pair}-g9"
        self.emit(
            t, "goal", rel.mentee, pair=rel.pair, goal=goal_id, text=text, measure=measure, due_on=due.isoformat()
        )
        if self.rng.random() < 0.5:
            self.goal_achieved(rel, goal_id, t, due)

    def review_agreement(self, t: datetime, rel: _Rel) -> None:
        if t < rel.close_at:
            self.emit(t, "review_agreement", rel.mentor, pair=rel.pair, outcome="continued")
            self.at(self.later(t, 0.1, 10), self.feedback, rel, rel.mentee)

    def close(self, t: datetime, rel: _Rel, mentor: _Mentor) -> None:
        rng = self.rng
        if rel.ending == "achieved":
            by, reason, rematch = rng.choice((rel.mentor, rel.mentee)), "objectives_achieved", False
        else:
            by = rng.choice((rel.mentor, rel.mentee))
            reason = "no_fault_mentor" if by == rel.mentor else "no_fault_mentee"
            rematch = rng.random() < 0.7
        self.emit(t, "close", by, settle_after=True, pair=rel.pair, reason=reason, rematch=rematch)
        rel.close_at = t
        mentor.load -= 1
        for party, chance in ((rel.mentee, 0.85), (rel.mentor, 0.7)):
            if rng.random() < chance:
                self.at(self.later(t, 0.1, 14), self.feedback, rel, party)
        if rematch:
            self.at(self.later(t, 2, 12), self.admin_match, rel.mentee, None, {rel.mentor})
            return
        self.busy.discard(rel.mentee)
        if reason != "objectives_achieved" and rng.random() < 0.3:
            self.at(self.later(t, 20, 60), self.submit, rel.mentee)
        elif reason == "objectives_achieved" and rng.random() < 0.15:
            self.at(self.later(t, 30, 200), self.mentee_leaves, rel.mentee)

    def feedback(self, t: datetime, rel: _Rel, by: str) -> None:
        base = {"steady": 4.4, "drifting": 3.5, "sporadic": 2.8}[rel.style]
        satisfaction = max(1, min(5, round(self.rng.gauss(base, 0.7))))
        self.emit(
            t,
            "feedback",
            by,
            pair=rel.pair,
            satisfaction=satisfaction,
            goals_met=rel.achieved > 0,
            would_recommend=satisfaction >= 4,
        )

    def mentee_leaves(self, t: datetime, mentee: str) -> None:
        if mentee in self.busy or t > self.end - 35 * DAY:
            return
        employee = self.person_of(mentee).staff.employee_id
        i = next(n for n, s in enumerate(self.staff) if s.employee_id == employee)
        self.leave(i, t.date() + timedelta(days=self.rng.randrange(7, 30)))
        self.busy.add(mentee)  # gone: no new requests

    def person_of(self, pid: str) -> Person:
        return self.by_id[pid]


@dataclass
class _Rel:
    pair: str
    mentee: str
    mentor: str
    style: str
    format: str
    agreed: datetime
    close_at: datetime
    ending: str
    meetings: int = 0
    achieved: int = 0


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)
