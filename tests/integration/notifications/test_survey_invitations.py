"""Survey invitations on real Postgres, broker and SMTP: each respondent of a SurveyOpened is mailed the link to the
survey's answer page in the portal, once (a redelivery mails nothing more), the digest reader in the digest."""

from __future__ import annotations

from datetime import date, timedelta

from shared.auth import Role
from shared.events.relationships import SurveyOpened
from tests.helpers import unique
from tests.integration.notifications.conftest import person
from tests.integration.service_harness import auth, envelope_of

PORTAL = "http://localhost:8000"  # the settings' default portal_url


def opened(kind: str, respondents: list[str], relationship_id: str | None) -> SurveyOpened:
    return SurveyOpened(
        survey_id=unique("survey"),
        kind=kind,
        relationship_id=relationship_id,
        respondent_ids=respondents,
        opened_on=date(2026, 3, 2),
        expires_on=date(2026, 4, 1),
        occasion="closure" if relationship_id else "training",
    )


async def test_each_respondent_is_invited_once_with_the_link_to_the_survey(service) -> None:
    mentor, mentee, rid = unique("mentor"), unique("mentee"), unique("rel")
    await service.consume(person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"))
    closure = opened("closure", [mentor, mentee], rid)
    envelope = envelope_of(closure, closure.survey_id)
    assert await service.consume(envelope) == ["handled"]
    assert await service.consume(envelope) == ["duplicate"]  # redelivered: nothing recorded twice
    await service.deliver()

    link = f"{PORTAL}/relationships/{rid}/surveys/{closure.survey_id}"
    for who in (mentor, mentee):
        [mail] = service.mailbox.to(f"{who}@uni.example")
        assert mail["Subject"] == "Your mentoring relationship has closed: a short survey"
        text = service.mailbox.text(mail)
        assert link in text and "open until 2026-04-01" in text

    training = opened("end_of_training", [mentor], None)
    await service.consume(envelope_of(training, training.survey_id))
    await service.deliver()
    mails = service.mailbox.to(f"{mentor}@uni.example")
    assert len(mails) == 2 and mails[-1]["Subject"] == "How was your mentor training? A short survey"
    assert f"{PORTAL}/surveys/{training.survey_id}" in service.mailbox.text(mails[-1])


async def test_a_digest_reader_gets_the_invitation_in_the_digest(service) -> None:
    mentor, mentee, rid = unique("mentor"), unique("mentee"), unique("rel")
    await service.consume(person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"))
    chosen = await service.client.put(
        f"/participants/{mentee}/preferences",
        headers=auth("admin-1", Role.admin),
        json={"channels": ["email"], "digest": True},
    )
    assert chosen.status_code == 200, chosen.text
    pulse = opened("pulse", [mentor, mentee], rid)
    await service.consume(envelope_of(pulse, pulse.survey_id))
    await service.deliver()
    assert service.mailbox.to(f"{mentee}@uni.example") == []  # held for the digest
    [now] = service.mailbox.to(f"{mentor}@uni.example")
    assert now["Subject"] == "How was your mentoring meeting? A short survey"

    service.clock.advance(timedelta(days=1))
    assert await service.fire_timers() == 1
    await service.deliver()
    [digest] = service.mailbox.to(f"{mentee}@uni.example")
    assert f"{PORTAL}/relationships/{rid}/surveys/{pulse.survey_id}" in service.mailbox.text(digest)
