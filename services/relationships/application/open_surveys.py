"""Use cases: surveys open at their moments (issue 18).

- ``pulse`` after each meeting logged, for its attendees (every party when none were named);
- ``mid_point`` halfway through every review period, on a durable timer: from the agreement's signing to its
  review date, then from each annual review (``AgreementReviewed``) to the next review date;
- ``annual_review`` when the review falls due (``AgreementReviewDue``), or at the review if it comes first;
- ``closure`` at closure, for the parties;
- ``end_of_training`` for a mentor when profiles' ``MentorTrainingCompleted`` arrives (no relationship).

``SurveyWatch`` is a commit hook of the relationship repository: the survey opens in the transaction that
recorded its occasion.  A kind the program does not run (its ``surveys`` list) opens nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from services.relationships.application.survey_ports import Surveys
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.survey import DEFAULT_TEMPLATES, mid_point, survey_id_for
from shared.events import Event
from shared.events.profiles import MentorTrainingCompleted
from shared.events.relationships import (
    DEFAULT_PROGRAM,
    AgreementReviewDue,
    AgreementReviewed,
    AgreementSigned,
    MeetingLogged,
    RelationshipClosed,
    SurveyKind,
)
from shared.ports import Conn, Timer

SURVEY_MID_POINT = "survey-mid-point"


async def open_survey(
    s: Surveys,
    conn: Conn,
    kind: SurveyKind,
    program_id: str,
    relationship_id: str | None,
    respondent_ids: Sequence[str],
    occasion: str,
    subject: str,
) -> str | None:
    """Open the survey (once per kind, subject and occasion); its id, or None when the program does not run it."""
    terms = await s.programs.terms(conn, program_id)
    if not terms.surveys_on(kind) or not respondent_ids:
        return None
    template = await s.store.template(conn, program_id, kind) or DEFAULT_TEMPLATES[kind]
    survey_id = survey_id_for(kind, occasion, subject)
    survey = await s.surveys.load(conn, survey_id)
    events = survey.open(kind, program_id, relationship_id, list(respondent_ids), occasion, s.today(), s.expires_after)
    if events:
        await s.surveys.commit(conn, survey, events)
        await s.store.save_view(conn, survey, template.as_dict()["questions"])
    return survey_id


def _mid_key(relationship_id: str) -> str:
    return f"survey-mid:{relationship_id}"


class SurveyWatch:
    """After every relationship commit: open the surveys its events call for, arm or cancel the mid-point timer."""

    def __init__(self, surveys: Surveys) -> None:
        self.s = surveys

    async def __call__(self, conn: Conn, relationship: Relationship, events: Sequence[Event], now: datetime) -> None:
        rid, program = relationship.relationship_id, relationship.program_id
        for event in events:
            if isinstance(event, MeetingLogged):
                who = event.attendee_ids or relationship.parties
                await open_survey(self.s, conn, "pulse", program, rid, who, event.meeting_id, rid)
            elif isinstance(event, AgreementSigned):
                await self._arm_mid_point(conn, relationship, event.signed_on, event.review_due_on, None)
            elif isinstance(event, AgreementReviewed):
                # reviewed before its date fell due: the period's annual-review survey opens now (the same id
                # as the one AgreementReviewDue opens, so a review after the due date opens nothing more)
                if relationship.last_review_due_on is not None:
                    due_on = str(relationship.last_review_due_on)
                    await open_survey(self.s, conn, "annual_review", program, rid, relationship.parties, due_on, rid)
                if event.next_review_due_on is None:  # closing: no next period
                    await self.s.timers.cancel(conn, _mid_key(rid))
                    continue
                occasion = f"review:{event.reviewed_on}"
                await self._arm_mid_point(conn, relationship, event.reviewed_on, event.next_review_due_on, occasion)
            elif isinstance(event, AgreementReviewDue):
                await open_survey(
                    self.s, conn, "annual_review", program, rid, relationship.parties, str(event.due_on), rid
                )
            elif isinstance(event, RelationshipClosed):
                await self.s.timers.cancel(conn, _mid_key(rid))
                await open_survey(self.s, conn, "closure", program, rid, relationship.parties, "closure", rid)

    async def _arm_mid_point(
        self, conn: Conn, relationship: Relationship, start: date, review_due_on: date, occasion: str | None
    ) -> None:
        """The mid-point timer of the period from ``start`` to ``review_due_on`` (it replaces a pending one).
        ``occasion`` names the period in the survey's id: the first period's is the signing day (left out)."""
        if not (await self.s.programs.terms(conn, relationship.program_id)).surveys_on("mid_point"):
            return
        rid = relationship.relationship_id
        due = datetime.combine(mid_point(start, review_due_on), time.min, tzinfo=UTC)
        payload = {"occasion": occasion} if occasion else None
        await self.s.timers.schedule(conn, _mid_key(rid), SURVEY_MID_POINT, rid, due, payload)


async def on_mid_point_due(s: Surveys, conn: Conn, timer: Timer) -> None:
    """The timer fired: the mid-point survey of the period opens for the parties of a relationship still open
    (once per period: the first period's occasion is the signing day, a later one's the review that began it)."""
    relationship = await s.relationships.load(conn, timer.subject)
    if relationship.phase == "closed" or relationship.agreement is None:
        return
    occasion = (timer.payload or {}).get("occasion") or str(relationship.agreement.signed_on)
    await open_survey(
        s, conn, "mid_point", relationship.program_id, timer.subject, relationship.parties, occasion, timer.subject
    )


async def on_training_completed(s: Surveys, conn: Conn, event: MentorTrainingCompleted) -> None:
    """A mentor completed the training: the end-of-training survey, once per mentor (the built-in program's
    template; a second training completed opens nothing more)."""
    mentor = event.participant_id
    await open_survey(s, conn, "end_of_training", DEFAULT_PROGRAM, None, [mentor], "training", mentor)
