"""Relationship aggregate: decides from commands, evolves from its events.  No I/O.

Phases: preparing → (negotiating, while a draft agreement exists; see
``agreement.py``) → enabling once every party signed → closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from services.relationships.domain.agreement import AgreementDraft, AgreementTerms
from services.relationships.domain.errors import (
    InvalidCommand,
    NotAParty,
    NotForThisRole,
    RelationshipNotFound,
    RelationshipRuleViolation,
)
from services.relationships.domain.program import DEFAULT_TERMS, MIN_MEMBERS, MIN_MENTORS, Terms
from services.relationships.domain.topics import PROGRAM_TOPICS
from shared.aggregate import Aggregate
from shared.events import Event
from shared.events.profiles import MeetingFormat
from shared.events.relationships import (
    DEFAULT_PROGRAM,
    AgreementReviewDue,
    AgreementReviewed,
    AgreementSigned,
    ClosureReason,
    GoalProgressed,
    GoalSet,
    MeetingLogged,
    MemberLeft,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
    SmartGoal,
)

Phase = Literal["preparing", "enabling", "closed"]
Model = Literal["one_to_one", "group", "peer"]
GoalStatus = Literal["in_progress", "achieved", "dropped"]
LeaveReason = Literal["withdrew", "left_institution", "erased"]
ReviewOutcome = Literal["continued", "revised", "closing"]

DEFAULT_CADENCE_WEEKS_MAX = 8
A_YEAR = timedelta(days=365)
ONLY_BY = {
    "no_fault_mentor": "the mentor",
    "no_fault_mentee": "a mentee",
    "participant_left": "the program director",
    "program_ended": "the program director",
}


@dataclass
class Goal:
    goal: SmartGoal
    mentee_id: str | None
    status: GoalStatus = "in_progress"
    progress_percent: int = 0


@dataclass
class Meeting:
    meeting_id: str
    held_on: date
    duration_minutes: int
    format: MeetingFormat
    topic_tags: list[str]
    attendee_ids: list[str] = field(default_factory=list)


@dataclass
class Relationship(Aggregate):
    """One mentoring relationship's stream (``shared.aggregate``: ``rebuild``, ``apply(event, at)``, ``exists``)."""

    id_field = "relationship_id"
    relationship_id: str
    version: int = 0
    phase: Phase = "preparing"
    model: Model = "one_to_one"
    program_id: str = DEFAULT_PROGRAM
    mentor_id: str | None = None
    co_mentor_ids: list[str] = field(default_factory=list)
    mentee_ids: list[str] = field(default_factory=list)
    left: dict[str, date] = field(default_factory=dict)
    match_id: str = ""
    started_on: date | None = None
    agreement: AgreementSigned | None = None
    cadence_weeks_max: int = DEFAULT_CADENCE_WEEKS_MAX
    review_due_on: date | None = None
    review_flagged: bool = False
    goals: dict[str, Goal] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    last_meeting_on: date | None = None
    lagging: bool = False
    last_review_due_on: date | None = None
    closure: RelationshipClosed | None = None

    @property
    def mentors(self) -> list[str]:
        """The mentors still in it: the lead mentor, then the co-mentors (none in a peer circle)."""
        return [m for m in (self.mentor_id, *self.co_mentor_ids) if m is not None and m not in self.left]

    @property
    def members(self) -> list[str]:
        """The mentees (a peer circle: its members) still in it."""
        return [m for m in self.mentee_ids if m not in self.left]

    @property
    def parties(self) -> list[str]:
        return [*self.mentors, *self.members]

    def role_of(self, participant_id: str) -> Literal["mentor", "mentee", "peer"]:
        if participant_id in (self.mentor_id, *self.co_mentor_ids):
            return "mentor"
        return "peer" if self.model == "peer" else "mentee"

    def is_party(self, participant_id: str) -> bool:
        return participant_id in self.parties

    def require_party(self, participant_id: str) -> None:
        if not self.is_party(participant_id):
            raise NotAParty(self.relationship_id)

    def lagging_on(self, grace: timedelta) -> date | None:
        """The day the pair counts as lagging if they have not met by then; None once closed."""
        if self.phase == "closed" or self.started_on is None:
            return None
        since = self.last_meeting_on or self.started_on
        return since + timedelta(weeks=self.cadence_weeks_max) + grace

    # --- commands -----------------------------------------------------------------

    def start(
        self,
        model: Model,
        mentor_id: str | None,
        mentee_ids: list[str],
        match_id: str,
        started_on: date,
        *,
        co_mentor_ids: list[str] | None = None,
        program_id: str = DEFAULT_PROGRAM,
    ) -> list[Event]:
        """one_to_one: a mentor and one mentee; group: a mentor (and co-mentors) and 1-20 mentees; peer: no
        mentor, 2-20 members (``mentee_ids``)."""
        if self.exists:
            raise RelationshipRuleViolation(f"relationship {self.relationship_id} has already started")
        co_mentor_ids = list(co_mentor_ids or [])
        if model == "peer" and mentor_id is not None:
            raise InvalidCommand("mentor_id", "a peer circle has no mentor: name every member in mentee_ids")
        if model != "peer" and mentor_id is None:
            raise InvalidCommand("mentor_id", f"a {model} relationship has a mentor")
        if co_mentor_ids and model != "group":
            raise InvalidCommand("co_mentor_ids", "only a group has co-mentors")
        try:
            started = RelationshipStarted(
                relationship_id=self.relationship_id,
                model=model,
                program_id=program_id,
                mentor_id=mentor_id,
                co_mentor_ids=co_mentor_ids,
                mentee_ids=mentee_ids,
                match_id=match_id,
                started_on=started_on,
            )
        except ValueError as exc:
            field_name = "co_mentor_ids" if "mentors must be distinct" in str(exc) else "mentee_ids"
            raise InvalidCommand(field_name, _first_error(exc)) from exc
        return [started]

    def propose_agreement(
        self, previous: AgreementDraft | None, by: str, terms: AgreementTerms, today: date
    ) -> AgreementDraft:
        """A party proposes terms: the next revision of the draft, without any signature.  In a group only a
        mentor proposes (the mentees sign); in a pair or a peer circle any party."""
        self.require_party(by)
        self.require_open("negotiate an agreement")
        if self.model == "group" and by not in self.mentors:
            raise NotForThisRole("in a group a mentor proposes the agreement; every mentee then signs it")
        return AgreementDraft.propose(previous, self.relationship_id, terms, by, today)

    def sign_agreement(
        self,
        draft: AgreementDraft | None,
        by: str,
        revision: int,
        today: date,
        *,
        confidentiality_accepted: bool,
        no_fault_acknowledged: bool,
        program: Terms = DEFAULT_TERMS,
    ) -> list[Event]:
        """A party signs the current revision (the draft records it); the last signature concludes it."""
        self.require_party(by)
        self.require_open("sign an agreement")
        if draft is None:
            raise RelationshipRuleViolation(f"relationship {self.relationship_id} has no agreement to sign yet")
        draft.sign(
            by,
            revision,
            today,
            confidentiality_accepted=confidentiality_accepted,
            no_fault_acknowledged=no_fault_acknowledged,
        )
        events = self.conclude_agreement(draft, today, program)
        draft.concluded = bool(events)
        return events

    def conclude_agreement(self, draft: AgreementDraft, today: date, program: Terms = DEFAULT_TERMS) -> list[Event]:
        """``AgreementSigned`` once every party still in it signed (``signed_by`` lists them all); the review
        falls due ``program.review_interval_months`` after signing unless the terms set a date."""
        self.require_open("sign an agreement")
        if draft.concluded or not draft.signed_by_all(self.parties):
            return []
        terms = draft.terms
        review_due_on = terms.review_due_on or program.review_after(today)
        _check_review_date("review_due_on", review_due_on, today)
        return [
            AgreementSigned(
                relationship_id=self.relationship_id,
                cadence_weeks_min=terms.cadence_weeks_min,
                cadence_weeks_max=terms.cadence_weeks_max,
                format=terms.format,
                confidentiality_accepted=True,
                no_fault_termination_acknowledged=True,
                goals=terms.goals,
                development_plan_attached=bool(terms.development_plan),
                signed_by=sorted(set(draft.signatures) & set(self.parties)),
                signed_on=today,
                review_due_on=review_due_on,
            )
        ]

    def log_meeting(
        self,
        by: str,
        meeting_id: str,
        held_on: date,
        duration_minutes: int,
        format: MeetingFormat,
        topic_tags: list[str],
        today: date,
        topics: tuple[str, ...] = PROGRAM_TOPICS,
        attendee_ids: list[str] | None = None,
    ) -> list[Event]:
        """``attendee_ids``: who attended, parties only (default: every party)."""
        self.require_party(by)
        self.require_open("log a meeting")
        attendees = list(dict.fromkeys(attendee_ids)) if attendee_ids else self.parties
        strangers = [a for a in attendees if a not in self.parties]
        if strangers:
            raise InvalidCommand("attendee_ids", f"not a party of this relationship: {', '.join(strangers)}")
        if held_on > today:
            raise InvalidCommand("held_on", "a meeting is logged once it took place, not ahead")
        if self.started_on and held_on < self.started_on:
            raise InvalidCommand("held_on", f"lies before the relationship started on {self.started_on}")
        unknown = sorted(set(topic_tags) - set(topics))
        if unknown:
            raise InvalidCommand("topic_tags", f"not on the program's topic list: {', '.join(unknown)}")
        if meeting_id in self.meetings:
            raise RelationshipRuleViolation(f"meeting {meeting_id} is already logged")
        return [
            MeetingLogged(
                relationship_id=self.relationship_id,
                meeting_id=meeting_id,
                held_on=held_on,
                duration_minutes=duration_minutes,
                format=format,
                topic_tags=list(dict.fromkeys(topic_tags)),
                attendee_ids=attendees,
            )
        ]

    def set_goal(self, by: str, mentee_id: str | None, goal: SmartGoal, today: date) -> list[Event]:
        self.require_party(by)
        self.require_open("set a goal")
        if mentee_id is None and by not in self.members and len(self.members) > 1:
            raise InvalidCommand("mentee_id", "name the mentee: goals are per mentee and this group has several")
        mentee_id = mentee_id or (by if by in self.members else self.members[0])
        if mentee_id not in self.members:
            raise InvalidCommand("mentee_id", f"{mentee_id} is not a mentee of this relationship")
        if goal.goal_id in self.goals:
            raise RelationshipRuleViolation(f"goal {goal.goal_id} is already set")
        if goal.due_on <= today:
            raise InvalidCommand("due_on", "a goal falls due after today")
        return [GoalSet(relationship_id=self.relationship_id, mentee_id=mentee_id, goal=goal)]

    def progress_goal(self, by: str, goal_id: str, status: GoalStatus, progress_percent: int) -> list[Event]:
        self.require_party(by)
        self.require_open("progress a goal")
        goal = self.goals.get(goal_id)
        if goal is None:
            raise RelationshipNotFound(f"relationship {self.relationship_id} has no goal {goal_id}")
        if goal.status != "in_progress":
            raise RelationshipRuleViolation(f"goal {goal_id} is already {goal.status}")
        if status == "achieved":
            progress_percent = 100
        return [
            GoalProgressed(
                relationship_id=self.relationship_id,
                goal_id=goal_id,
                status=status,
                progress_percent=progress_percent,
            )
        ]

    def check_cadence(self, today: date, grace: timedelta) -> list[Event]:
        """Lagging once per lapse: after the first warning nothing more until a meeting clears it."""
        due = self.lagging_on(grace)
        if due is None or self.lagging or today < due:
            return []
        since = self.last_meeting_on or self.started_on
        assert since is not None
        return [
            RelationshipLagging(
                relationship_id=self.relationship_id,
                last_meeting_on=self.last_meeting_on,
                days_since=(today - since).days,
                cadence_weeks_max=self.cadence_weeks_max,
            )
        ]

    def check_review(self, today: date) -> list[Event]:
        if self.phase != "enabling" or self.review_due_on is None or self.review_flagged or today < self.review_due_on:
            return []
        return [AgreementReviewDue(relationship_id=self.relationship_id, due_on=self.review_due_on)]

    def review(
        self,
        by: str,
        outcome: ReviewOutcome,
        today: date,
        next_review_due_on: date | None = None,
        *,
        by_director: bool = False,
        program: Terms = DEFAULT_TERMS,
    ) -> list[Event]:
        """The parties or the program director review the signed agreement (at least annually)."""
        if not by_director:
            self.require_party(by)
        self.require_open("review the agreement")
        if self.phase != "enabling":
            raise RelationshipRuleViolation(f"relationship {self.relationship_id} has no signed agreement to review")
        if outcome == "closing":
            if next_review_due_on is not None:
                raise InvalidCommand("next_review_due_on", "a closing agreement has no next review")
        else:
            next_review_due_on = next_review_due_on or program.review_after(today)
            _check_review_date("next_review_due_on", next_review_due_on, today)
        return [
            AgreementReviewed(
                relationship_id=self.relationship_id,
                reviewed_on=today,
                outcome=outcome,
                next_review_due_on=next_review_due_on,
            )
        ]

    def close(
        self, by: str, reason: ClosureReason, today: date, *, by_director: bool, rematch_requested: bool = False
    ) -> list[Event]:
        """A group closes as a whole, by a mentor or the director (a mentee leaves it instead); a peer circle by
        any member (``objectives_achieved``) or the director."""
        if not by_director:
            self.require_party(by)
        self.require_open("close it")
        if not by_director and self.model == "group" and by not in self.mentors:
            raise NotForThisRole("a group is closed by a mentor or the director; a mentee leaves it instead")
        allowed = {
            "no_fault_mentor": by in self.mentors,
            "no_fault_mentee": by in self.members and self.model == "one_to_one",
            "participant_left": by_director,
            "program_ended": by_director,
            "objectives_achieved": True,
        }
        if reason == "no_fault_mentee" and self.model != "one_to_one":
            raise InvalidCommand("reason", "a mentee or peer leaves a group or circle instead of closing it")
        if not allowed[reason]:
            raise InvalidCommand("reason", f"only {ONLY_BY[reason]} may close a relationship as {reason}")
        return [self._closed(reason, by, rematch_requested, today)]

    def participant_left(
        self, participant_id: str, today: date, reason: LeaveReason = "left_institution"
    ) -> list[Event]:
        """Someone left the institution: a pair ends (mentees who lost their mentor get a rematch); a group or a
        peer circle goes on without them unless fewer than its model's minimum remain."""
        if self.phase == "closed" or not self.is_party(participant_id):
            return []
        if self.model == "one_to_one":
            return [self._closed("participant_left", None, participant_id == self.mentor_id, today)]
        return self._member_leaves(participant_id, reason, None, today)

    def leave(self, participant_id: str, by: str, today: date, *, by_director: bool) -> list[Event]:
        """A member leaves a group or a peer circle (themselves, or recorded by the director)."""
        if not by_director:
            self.require_party(by)
            if by != participant_id:
                raise NotForThisRole("a member leaves by themselves, or the director records it")
        self.require_open("leave it")
        if self.model == "one_to_one":
            raise RelationshipRuleViolation("a one-to-one relationship is closed, not left: POST its closure")
        if participant_id not in self.parties:
            raise RelationshipNotFound(f"relationship {self.relationship_id} has no member {participant_id}")
        return self._member_leaves(participant_id, "withdrew", by, today)

    def _member_leaves(self, participant_id: str, reason: LeaveReason, by: str | None, today: date) -> list[Event]:
        left = MemberLeft(
            relationship_id=self.relationship_id,
            participant_id=participant_id,
            role=self.role_of(participant_id),
            reason=reason,
            by=by,
            left_on=today,
        )
        mentors = [m for m in self.mentors if m != participant_id]
        members = [m for m in self.members if m != participant_id]
        if len(mentors) >= MIN_MENTORS[self.model] and len(members) >= MIN_MEMBERS[self.model]:
            return [left]
        lost_mentor = self.model == "group" and not mentors and bool(members)
        return [left, self._closed("participant_left", by, lost_mentor, today)]

    # --- evolution ----------------------------------------------------------------

    def evolve(self, event: Event, at: datetime) -> None:
        if isinstance(event, RelationshipStarted):
            self.model, self.mentor_id, self.mentee_ids = event.model, event.mentor_id, list(event.mentee_ids)
            self.program_id, self.co_mentor_ids = event.program_id, list(event.co_mentor_ids)
            self.match_id, self.started_on = event.match_id, event.started_on
        elif isinstance(event, MemberLeft):
            self.left[event.participant_id] = event.left_on
        elif isinstance(event, AgreementSigned):
            self.phase, self.agreement = "enabling", event
            self.cadence_weeks_max = event.cadence_weeks_max
            self.review_due_on, self.review_flagged = event.review_due_on, False
            for goal in event.goals:
                self.goals.setdefault(goal.goal_id, Goal(goal, None))
        elif isinstance(event, GoalSet):
            self.goals[event.goal.goal_id] = Goal(event.goal, event.mentee_id)
        elif isinstance(event, GoalProgressed):
            goal = self.goals[event.goal_id]
            goal.status, goal.progress_percent = event.status, event.progress_percent
        elif isinstance(event, MeetingLogged):
            self.meetings[event.meeting_id] = Meeting(
                event.meeting_id,
                event.held_on,
                event.duration_minutes,
                event.format,
                list(event.topic_tags),
                list(event.attendee_ids),
            )
            self.last_meeting_on = max(filter(None, (self.last_meeting_on, event.held_on)))
            self.lagging = False
        elif isinstance(event, RelationshipLagging):
            self.lagging = True
        elif isinstance(event, AgreementReviewDue):
            self.review_flagged = True
        elif isinstance(event, AgreementReviewed):
            self.last_review_due_on = self.review_due_on
            self.review_due_on, self.review_flagged = event.next_review_due_on, False
        elif isinstance(event, RelationshipClosed):
            self.phase, self.closure = "closed", event

    # --- rules --------------------------------------------------------------------

    def require_open(self, action: str) -> None:
        if not self.exists:
            raise RelationshipNotFound(f"no relationship {self.relationship_id}")
        if self.phase == "closed":
            assert self.closure is not None
            raise RelationshipRuleViolation(
                f"relationship {self.relationship_id} was closed on {self.closure.closed_on}"
                f" ({self.closure.reason}): cannot {action}"
            )

    def _closed(self, reason: ClosureReason, by: str | None, rematch: bool, today: date) -> RelationshipClosed:
        return RelationshipClosed(
            relationship_id=self.relationship_id,
            reason=reason,
            closed_by=by,
            program_id=self.program_id,
            mentor_id=self.mentor_id,
            co_mentor_ids=self.co_mentor_ids,
            mentee_ids=self.mentee_ids,
            rematch_requested=rematch,
            closed_on=today,
        )


def _check_review_date(field_name: str, due: date, today: date) -> None:
    if due <= today:
        raise InvalidCommand(field_name, "the review falls due after today")
    if due > today + A_YEAR + timedelta(days=1):
        raise InvalidCommand(field_name, "the agreement is reviewed at least annually: within a year")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(e["msg"] for e in errors())
    return str(exc)
