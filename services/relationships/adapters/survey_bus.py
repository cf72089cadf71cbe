"""What surveys consume (issue 18): a mentor's completed training opens the end-of-training survey; an erasure
deletes the person's sealed text answers.  Added to the relationships' handler table by ``bootstrap.py``; the
mid-point timer's handler beside it."""

from __future__ import annotations

from services.relationships.application.open_surveys import SURVEY_MID_POINT, on_mid_point_due, on_training_completed
from services.relationships.application.survey_ports import Surveys
from shared.envelope import Envelope
from shared.events.profiles import MentorTrainingCompleted, ParticipantErased
from shared.handlers import EventHandlers
from shared.ports import Conn, Timer


def add_survey_handlers(handlers: EventHandlers, s: Surveys) -> EventHandlers:
    @handlers.on(MentorTrainingCompleted)
    async def training(conn: Conn, event: MentorTrainingCompleted, envelope: Envelope) -> None:
        await on_training_completed(s, conn, event)

    @handlers.on(ParticipantErased)
    async def forget_answers(conn: Conn, event: ParticipantErased, envelope: Envelope) -> None:
        await s.store.forget_respondent(conn, event.participant_id)

    return handlers


def survey_timer_handlers(s: Surveys) -> dict:
    async def mid_point(conn: Conn, timer: Timer) -> None:
        await on_mid_point_due(s, conn, timer)

    return {SURVEY_MID_POINT: mid_point}
