"""Survey invitations: each respondent of a survey opened by relationships is mailed the link to answer it (their
preferences apply as to every message: channels, the daily digest)."""

from __future__ import annotations

from services.notifications.application.deps import Deps
from services.notifications.application.record_notices import record
from services.notifications.domain import surveys
from shared.events.relationships import SurveyOpened
from shared.ports import Conn


async def opened(deps: Deps, conn: Conn, event: SurveyOpened, cause_id: str) -> None:
    """One invitation per respondent (the event is the cause: a redelivery records nothing twice)."""
    await record(deps, conn, cause_id, surveys.invitations(event, deps.options.portal_url))
