"""The end-of-training survey (no relationship) answered on the portal's ``/surveys/{id}``, the page its invitation
mail links to; a relationship's survey asked for there goes to its page in the workspace."""

from __future__ import annotations

import re
import uuid
from datetime import date

from shared.auth import Role
from shared.events.profiles import MentorTrainingCompleted
from tests.integration.matching.conftest import mentee_registered, mentor_registered
from tests.integration.service_harness import auth


async def test_the_end_of_training_survey_is_answered_on_its_own_page(stack) -> None:
    mentor_id = f"mentor-{uuid.uuid4().hex[:6]}"
    await stack.relationships.feed(
        MentorTrainingCompleted(participant_id=mentor_id, kind="workshop", completed_on=date(2026, 3, 1))
    )
    listed = await stack.relationships.client.get("/surveys", headers=auth(mentor_id, Role.mentor))
    [survey] = listed.json()["items"]
    mentor = await stack.sign_in(mentor_id, Role.mentor)
    page = await mentor.get(f"/surveys/{survey['survey_id']}")
    assert page.status_code == 200 and "End-of-training survey" in page.text
    assert f'action="/surveys/{survey["survey_id"]}"' in page.text and "Back to the relationship" not in page.text

    missing = await mentor.post(
        f"/surveys/{survey['survey_id']}", {"answers.quality": "5", "answers.format": "workshop"}
    )
    assert missing.status_code == 422 and 'id="answer-prepared-error"' in missing.text
    assert re.search(r'value="workshop" checked', missing.text)
    answered = await mentor.post(
        f"/surveys/{survey['survey_id']}",
        {"answers.prepared": "4", "answers.quality": "5", "answers.format": "workshop"},
    )
    assert answered.status_code == 303 and answered.headers["location"] == "/?done=survey_thanks"
    assert "Thank you for your answers." in (await mentor.get(answered.headers["location"])).text
    assert (await mentor.get(f"/surveys/{survey['survey_id']}")).status_code == 404  # answered: no longer open
    stranger = await stack.sign_in(f"mentor-{uuid.uuid4().hex[:6]}", Role.mentor)
    assert (await stranger.get(f"/surveys/{survey['survey_id']}")).status_code == 404


async def test_a_relationships_survey_asked_for_by_its_id_goes_to_the_workspace(stack) -> None:
    mentor_id, mentee_id = f"mentor-{uuid.uuid4().hex[:6]}", f"mentee-{uuid.uuid4().hex[:6]}"
    await stack.matching.feed(mentor_registered(mentor_id), mentee_registered(mentee_id))
    rid = await stack.match(mentor_id, mentee_id)
    mentee = await stack.sign_in(mentee_id, Role.mentee)
    closed = await mentee.post(f"/relationships/{rid}/closure", {"reason": "no_fault_mentee"})
    assert closed.status_code == 303, closed.text
    [closure] = (await stack.relationships.client.get("/surveys", headers=auth(mentee_id, Role.mentee))).json()["items"]
    sent = await mentee.get(f"/surveys/{closure['survey_id']}")
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/relationships/{rid}/surveys/{closure['survey_id']}"
