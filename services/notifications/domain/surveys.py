"""Who is invited to answer a survey, and the link to its page in the portal.  Pure.

Every respondent of a ``SurveyOpened`` gets one invitation (one per survey and respondent: the event's id is the
cause, so a redelivery records nothing more) linking to the survey's answer page: a relationship's survey at
``<portal>/relationships/{id}/surveys/{survey}``, the end-of-training survey (no relationship) at
``<portal>/surveys/{survey}``.
"""

from __future__ import annotations

from services.notifications.domain.audience import Notice
from shared.events.relationships import SurveyOpened

TEMPLATE = "survey_invitation"


def survey_url(portal_url: str, relationship_id: str | None, survey_id: str) -> str:
    base = portal_url.rstrip("/")
    if relationship_id is None:
        return f"{base}/surveys/{survey_id}"
    return f"{base}/relationships/{relationship_id}/surveys/{survey_id}"


def invitations(event: SurveyOpened, portal_url: str) -> list[Notice]:
    context = {
        "survey_id": event.survey_id,
        "kind": event.kind,
        "program_id": event.program_id,
        "relationship_id": event.relationship_id,
        "expires_on": event.expires_on.isoformat(),
        "url": survey_url(portal_url, event.relationship_id, event.survey_id),
    }
    return [Notice(person, TEMPLATE, context) for person in dict.fromkeys(event.respondent_ids)]
