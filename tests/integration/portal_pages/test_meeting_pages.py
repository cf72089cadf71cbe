"""Scheduled meetings in the portal, by form posts as a browser without JavaScript sends them, on the real
relationships and matching services: availability set, a proposal refused at its field (outside the other's
availability), proposed → accepted by the other party → rescheduled → cancelled; another held and logged by the
"did it happen?" page; a non-party gets the not-found page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

from shared.auth import Role
from tests.helpers import eventually
from tests.integration.matching.conftest import mentee_registered, mentor_registered
from tests.integration.service_harness import auth

RADIO = re.compile(r'name="starts_at" value="([^"]+)"')


def starts_of(page_text: str) -> list[str]:
    return [unescape(v) for v in RADIO.findall(page_text)]


async def test_propose_accept_reschedule_cancel_and_held(stack) -> None:
    [mentor_id, spare_id], [mentee_id] = await stack.people(2, 1)
    rid = await stack.match(mentor_id, mentee_id)
    mentor = await stack.sign_in(mentor_id, Role.mentor)
    mentee = await stack.sign_in(mentee_id, Role.mentee)
    outsider = await stack.sign_in(spare_id, Role.mentor)
    workspace = f"/relationships/{rid}"

    # The mentee's weekly window: Tuesdays 09:00-17:00 (UTC: no profile named a zone).
    page = await mentee.get("/availability")
    assert page.status_code == 200 and 'name="windows.0.weekday"' in page.text
    bad = await mentee.post(
        "/availability",
        {"windows.0.weekday": "1", "windows.0.start": "17:00", "windows.0.end": "09:00", "windows.1.weekday": "0"},
    )
    assert bad.status_code == 422 and 'id="windows-0-start-error"' in bad.text and 'value="17:00"' in bad.text
    saved = await mentee.post(
        "/availability",
        {"windows.0.weekday": "1", "windows.0.start": "09:00", "windows.0.end": "17:00", "windows.1.weekday": "0"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/availability?done=availability"
    page = await mentee.get("/availability")
    assert 'value="09:00"' in page.text and 'value="17:00"' in page.text

    page = await mentor.get(workspace)
    assert "Upcoming meetings" in page.text and "Nothing scheduled yet." in page.text
    assert 'name="proposal.candidates.0" type="datetime-local"' in page.text

    # Outside the mentee's availability: refused at the field, what was typed kept.
    proposal = {"proposal.duration_minutes": "60", "proposal.format": "video", "proposal.candidates.1": ""}
    refused = await mentor.post(
        f"{workspace}/meetings/proposals",
        {**proposal, "proposal.candidates.0": "2026-03-03T10:00", "proposal.candidates.2": "2026-03-03T20:00"},
    )
    assert refused.status_code == 422, refused.text
    assert 'id="proposal-candidates-2-error">is outside' in refused.text
    assert 'value="2026-03-03T20:00"' in refused.text and 'aria-invalid="true"' in refused.text

    made = await mentor.post(
        f"{workspace}/meetings/proposals",
        {**proposal, "proposal.candidates.0": "2026-03-03T10:00", "proposal.candidates.2": "2026-03-03T13:00"},
    )
    assert made.status_code == 303, made.text
    meeting_page = made.headers["location"].split("?")[0]
    assert meeting_page.startswith(f"{workspace}/meetings/")
    page = await mentor.get(made.headers["location"])
    assert "Your proposal is sent" in page.text and "Proposed: waiting" in page.text
    assert "Accept a time" not in page.text  # not one's own proposal
    page = await mentor.get(workspace)
    assert f'href="{meeting_page}"' in page.text  # listed under upcoming meetings

    # The non-party: the portal's not-found page.
    assert (await outsider.get(meeting_page)).status_code == 404

    page = await mentee.get(meeting_page)
    times = starts_of(page.text)
    assert len(times) == 2 and "2026-03-03 13:00 (UTC)" in page.text
    accepted = await mentee.post(f"{meeting_page}/acceptance", {"starts_at": times[1]})
    assert accepted.status_code == 303, accepted.text
    page = await mentee.get(meeting_page)
    assert "Agreed" in page.text and "2026-03-03 13:00 (UTC) \u2013 2026-03-03 14:00 (UTC)" in page.text

    # Accepting again: the meeting changed meanwhile.
    again = await mentee.post(f"{meeting_page}/acceptance", {"starts_at": times[0]})
    assert again.status_code == 409 and "Someone changed this meanwhile" in again.text

    moved = await mentor.post(
        f"{meeting_page}/reschedule", {"candidates.0": "2026-03-03T15:00", "duration_minutes": "30"}
    )
    assert moved.status_code == 303, moved.text
    page = await mentee.get(meeting_page)
    assert "Proposed: waiting" in page.text and starts_of(page.text) and "30 minutes" in page.text

    cancelled = await mentee.post(f"{meeting_page}/cancellation")
    assert cancelled.status_code == 303
    page = await mentor.get(meeting_page)
    assert "Cancelled" in page.text and "cancel-form" not in page.text
    assert f'href="{meeting_page}"' not in (await mentor.get(workspace)).text

    # Another one, held: "did it happen?" after its end logs it.
    made = await mentee.post(
        f"{workspace}/meetings/proposals", {**proposal, "proposal.candidates.0": "2026-03-04T10:00"}
    )
    assert made.status_code == 303, made.text
    second = made.headers["location"].split("?")[0]
    times = starts_of((await mentor.get(second)).text)
    assert (await mentor.post(f"{second}/acceptance", {"starts_at": times[0]})).status_code == 303
    early = await mentor.post(f"{second}/held", {"notes": "too early"})
    assert early.status_code == 409  # before its end
    stack.clock.advance(timedelta(days=2, hours=3))  # past 2026-03-04 11:00
    page = await mentee.get(second)
    assert "Did it happen?" in page.text and "Yes, it happened" in page.text
    assert 'name="duration_minutes" type="number" value="60"' in page.text  # as scheduled, to correct
    assert 'id="held-topic-funding" name="topics" value="funding">' in page.text  # the program's topics, unticked
    too_long = await mentee.post(
        f"{second}/held", {"duration_minutes": "700", "topics_shown": "yes", "topics": "funding", "notes": "kept"}
    )
    assert too_long.status_code == 422 and 'id="duration_minutes-error"' in too_long.text
    assert 'value="funding" checked' in too_long.text and "kept</textarea>" in too_long.text
    forged = await mentee.post(
        f"{second}/held", {"duration_minutes": "40", "topics_shown": "yes", "topics": "astrology"}
    )
    assert forged.status_code == 422 and 'id="topics-error"' in forged.text
    assert "not on the program&#39;s topic list" in forged.text or "not on the program's topic list" in forged.text
    held = await mentee.post(
        f"{second}/held",
        [
            ("duration_minutes", "40"),
            ("topics_shown", "yes"),
            ("topics", "funding"),
            ("topics", "networking"),
            ("notes", "Private: we talked about the aims page"),
        ],
    )
    assert held.status_code == 303, held.text
    page = await mentee.get(held.headers["location"])
    assert "Thank you: the meeting is logged." in page.text and "Held" in page.text
    page = await mentor.get(workspace)
    assert "2026-03-04 · 40 minutes" in page.text and "Private: we talked about the aims page" in page.text
    assert "funding, networking" in page.text

    # The meeting logged opens the pulse survey for both: answered from the workspace.
    found = re.search(rf'href="({workspace}/surveys/[^"]+)">After the meeting: a short survey', page.text)
    assert found, "the pulse survey is not linked from the workspace"
    survey = found.group(1)
    form = await mentor.get(survey)
    assert form.status_code == 200 and "How useful was this meeting?" in form.text
    assert 'name="answers.useful" value="5"' in form.text and 'name="answers.next" value="not_sure"' in form.text
    missing = await mentor.post(survey, {"answers.next": "yes", "answers.comment": "Good pace"})
    assert missing.status_code == 422 and 'id="answer-useful-error"' in missing.text
    assert "Good pace</textarea>" in missing.text and 'value="yes" checked' in missing.text
    answered = await mentor.post(survey, {"answers.useful": "4", "answers.next": "yes", "answers.comment": ""})
    assert answered.status_code == 303 and answered.headers["location"] == f"{workspace}?done=survey_answered"
    page = await mentor.get(answered.headers["location"])
    assert "Thank you for your answers." in page.text and survey not in page.text
    assert (await mentor.get(survey)).status_code == 404  # answered: no longer open
    assert (await outsider.get(survey)).status_code == 404


async def test_times_are_typed_and_shown_in_each_persons_zone_across_dst(stack) -> None:
    """A mentor in New York (daylight saving starts on 2026-03-08) proposes 09:00 their time on 2026-03-10: sent as
    13:00 UTC, inside the mentee's Tuesday 09:00-17:00 UTC; each reads it in their own zone."""
    mentor_id, mentee_id = f"mentor-ny-{uuid.uuid4().hex[:6]}", f"mentee-{uuid.uuid4().hex[:6]}"
    await stack.matching.feed(mentor_registered(mentor_id, time_zone="America/New_York"), mentee_registered(mentee_id))
    rid = await stack.match(mentor_id, mentee_id)

    async def zone_known() -> bool:
        answer = await stack.relationships.client.get(
            f"/relationships/{rid}/meetings/availability", headers=auth(mentor_id, Role.mentor)
        )
        return answer.json()[mentor_id]["time_zone"] == "America/New_York"

    await eventually(zone_known, timeout=40)
    mentor = await stack.sign_in(mentor_id, Role.mentor)
    mentee = await stack.sign_in(mentee_id, Role.mentee)
    window = {"windows.0.weekday": "1", "windows.0.start": "09:00", "windows.0.end": "17:00"}
    assert (await mentee.post("/availability", window)).status_code == 303

    workspace = f"/relationships/{rid}"
    assert "Times are in your time zone, America/New_York." in (await mentor.get(workspace)).text
    early = await mentor.post(
        f"{workspace}/meetings/proposals",
        {"proposal.candidates.0": "2026-03-10T04:00", "proposal.duration_minutes": "60"},  # 08:00 UTC
    )
    assert early.status_code == 422 and 'id="proposal-candidates-0-error">is outside' in early.text
    made = await mentor.post(
        f"{workspace}/meetings/proposals",
        {"proposal.candidates.0": "2026-03-10T09:00", "proposal.duration_minutes": "60"},
    )
    assert made.status_code == 303, made.text
    meeting_page = made.headers["location"].split("?")[0]
    assert "2026-03-10 09:00 (America/New_York)" in (await mentor.get(meeting_page)).text
    page = await mentee.get(meeting_page)
    assert "2026-03-10 13:00 (UTC)" in page.text
    assert [t[:19] for t in starts_of(page.text)] == ["2026-03-10T13:00:00"]

    # Accepted, then it did not happen: "No, it did not" cancels it.
    assert (await mentee.post(f"{meeting_page}/acceptance", {"starts_at": starts_of(page.text)[0]})).status_code == 303
    stack.clock.advance(datetime(2026, 3, 11, tzinfo=UTC) - stack.clock.now())  # past 2026-03-10 14:00 UTC
    page = await mentor.get(meeting_page)
    assert "Did it happen?" in page.text and "Reschedule" not in page.text
    not_held = await mentor.post(f"{meeting_page}/cancellation", {"answer": "not_held"})
    assert not_held.status_code == 303 and not_held.headers["location"].endswith("?done=meeting_not_held")
    page = await mentor.get(not_held.headers["location"])
    assert "Noted: the meeting did not take place." in page.text and "Cancelled" in page.text
