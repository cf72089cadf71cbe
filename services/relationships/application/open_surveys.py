"""Use cases: surveys open at their moments (issue 18).

- ``pulse`` after each meeting logged, for its attendees (every party when none were named);
- ``mid_point`` halfway between the agreement's signing and its review date, on a durable timer;
- ``annual_review`` when the review falls due (``AgreementReviewDue``);
- ``closure`` at closure, for the parties;
- ``end_of_training`` for a mentor when profiles' ``MentorTrainingCompleted`` arrives (no relationship).

``SurveyWatch`` is a commit hook of the relationship repository: the survey opens in the transaction that
recorded its occasion.  A kind the program does not run (its ``surveys`` list) opens nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time

from services.relationships.application.survey_ports import Surveys
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.survey import DEFAULT_TEMPLATES, mid_point, survey_id_for
from shared.events import Event
from shared.events.profiles import MentorTrainingCompleted
from shared.events.relationships import (
    DEFAULT_PROGRAM,
    AgreementReviewDue,
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
                if not (await self.s.programs.terms(conn, program)).surveys_on("mid_point"):
                    continue
                due = datetime.combine(mid_point(event.signed_on, event.review_due_on), time.min, tzinfo=UTC)
                await self.s.timers.schedule(conn, _mid_key(rid), SURVEY_MID_POINT, rid, due)
            elif isinstance(event, AgreementReviewDue):
                await open_survey(
                    self.s, conn, "annual_review", program, rid, relationship.parties, str(event.due_on), rid
                )
            elif isinstance(event, RelationshipClosed):
                await self.s.timers.cancel(conn, _mid_key(rid))
                await open_survey(self.s, conn, "closure", program, rid, relationship.parties, "closure", rid)


async def on_mid_point_due(s: Surveys, conn: Conn, timer: Timer) -> None:
    """The timer fired: the mid-point survey opens for the parties of a relationship still open."""
    relationship = await s.relationships.load(conn, timer.subject)
    if relationship.phase == "closed" or relationship.agreement is None:
        return
    occasion = str(relationship.agreement.signed_on)
    await open_survey(
        s, conn, "mid_point", relationship.program_id, timer.subject, relationship.parties, occasion, timer.subject
    )


async def on_training_completed(s: Surveys, conn: Conn, event: MentorTrainingCompleted) -> None:
    """A mentor completed the training: the end-of-training survey, once per mentor (the built-in program's
    template; a second training completed opens nothing more)."""
    mentor = event.participant_id
    await open_survey(s, conn, "end_of_training", DEFAULT_PROGRAM, None, [mentor], "training", mentor)
