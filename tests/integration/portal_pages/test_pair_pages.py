"""The pair's workspace in the portal, by form posts as a browser without JavaScript sends them: the agreement
negotiated and signed, a meeting with a private note (the director cannot read it), a goal and its progress, a
refusal shown next to its field, a conflict explained, closure with no fault and a rematch, the closing survey."""

from __future__ import annotations

import re
from html import unescape

from shared.auth import Role
from tests.helpers import eventually
from tests.integration.service_harness import auth

AGREEMENT = {
    "cadence_weeks_min": "6",
    "cadence_weeks_max": "8",
    "format": "video",
    "goals.0.goal_id": "",
    "goals.0.text": "Submit a K award",
    "goals.0.measure": "Application submitted",
    "goals.0.due_on": "2026-12-01",
    "goals.1.goal_id": "",
    "goals.1.text": "",
    "goals.1.measure": "",
    "goals.1.due_on": "",
    "development_plan.0.title": "Specific aims page",
    "development_plan.0.due_on": "2026-05-01",
    "review_due_on": "",
}
SIGN = {"confidentiality_accepted": "yes", "no_fault_termination_acknowledged": "yes"}


async def test_the_pair_negotiates_meets_progresses_and_closes(stack) -> None:
    [mentor_id, _spare], [mentee_id] = await stack.people(2, 1)
    rid = await stack.match(mentor_id, mentee_id)
    mentor = await stack.sign_in(mentor_id, Role.mentor)
    mentee = await stack.sign_in(mentee_id, Role.mentee)
    director = await stack.sign_in("director-1", Role.admin)
    workspace = f"/relationships/{rid}"

    listed = await mentee.get("/relationships")
    assert listed.status_code == 200 and f"Mentored by Dr {mentor_id}" in listed.text and workspace in listed.text
    page = await mentor.get(workspace)
    assert page.status_code == 200
    assert f"Relationship with Fellow {mentee_id}" in page.text and "Grant writing" in page.text  # the introduction
    assert "No agreement yet" in page.text and "Next meeting due by 2026-04-27" in page.text
    assert 'name="held_on" type="date" value="2026-03-02"' in page.text  # the services' day

    # A goal due in the past: refused next to its field, the form kept as typed.
    refused = await mentee.post(f"{workspace}/agreement", {**AGREEMENT, "goals.0.due_on": "2026-01-01"})
    assert refused.status_code == 422
    assert 'id="goals-0-due_on-error">a goal falls due after today' in refused.text
    assert 'value="Submit a K award"' in refused.text and 'aria-invalid="true"' in refused.text
    proposed = await mentee.post(f"{workspace}/agreement", AGREEMENT)
    assert proposed.status_code == 303 and proposed.headers["location"] == f"{workspace}?done=pair_proposed"
    page = await mentor.get(f"{workspace}?done=pair_proposed")
    assert "Your revision of the agreement is saved" in page.text and "Draft revision 1" in page.text

    unsigned = await mentor.post(f"{workspace}/signature", {"revision": "1"})
    assert unsigned.status_code == 422 and 'id="confidentiality_accepted-error"' in unsigned.text
    for who in (mentor, mentee):
        signed = await who.post(f"{workspace}/signature", {"revision": "1", **SIGN})
        assert signed.status_code == 303, signed.text
    page = await mentee.get(workspace)
    assert "Signed by every party (revision 1)." in page.text and "Annual review" in page.text

    met = await mentor.post(
        f"{workspace}/meetings",
        [
            ("held_on", "2026-03-02"),
            ("duration_minutes", "45"),
            ("meeting_format", "video"),
            ("topic_tags", "goals"),
            ("topic_tags", "funding"),
            ("notes", "Private: talked about the aims page"),
        ],
    )
    assert met.status_code == 303, met.text
    page = await mentee.get(workspace)
    assert "Private: talked about the aims page" in page.text and "45 minutes" in page.text
    ahead = await mentee.post(
        f"{workspace}/meetings", {"held_on": "2026-04-01", "duration_minutes": "30", "meeting_format": "phone"}
    )
    assert ahead.status_code == 422 and 'id="held_on-error">a meeting is logged once it took place' in ahead.text

    seen_by_director = await director.get(workspace)
    assert seen_by_director.status_code == 200 and "aims page" not in seen_by_director.text
    assert "Only the pair reads" in seen_by_director.text

    goal = await mentee.post(
        f"{workspace}/goals", {"text": "Publish one paper", "measure": "Accepted", "due_on": "2026-10-01"}
    )
    assert goal.status_code == 303, goal.text
    detail = (await stack.relationships.client.get(workspace, headers=auth(mentee_id, Role.mentee))).json()
    goal_id = next(g["goal_id"] for g in detail["goals"] if g["text"] == "Publish one paper")
    progressed = await mentee.post(f"{workspace}/goals/{goal_id}/progress", {f"progress.{goal_id}.status": "achieved"})
    assert progressed.status_code == 303
    again = await mentor.post(
        f"{workspace}/goals/{goal_id}/progress",
        {f"progress.{goal_id}.status": "in_progress", f"progress.{goal_id}.progress_percent": "50"},
    )
    assert again.status_code == 409 and "Someone changed this meanwhile" in unescape(again.text)

    closed = await mentee.post(f"{workspace}/closure", {"reason": "no_fault_mentee", "rematch_requested": "yes"})
    assert closed.status_code == 303, closed.text
    page = await mentee.get(f"{workspace}?done=pair_closed")
    assert "Close the relationship" not in page.text and 'action="' + workspace + '/feedback"' not in page.text
    found = re.search(rf'href="({workspace}/surveys/[^"]+)">Closing survey', page.text)
    assert found, "the workspace links the closing survey's page"
    survey = found.group(1)
    answers = {"answers.satisfaction": "4", "answers.goals": "5", "answers.recommend": "yes"}
    answered = await mentee.post(survey, answers)
    assert answered.status_code == 303, answered.text
    page = await mentee.get(workspace)
    assert "Closing survey" not in page.text and survey not in page.text

    # The rematch waits in the director's unmatched queue; the director matches from a suggestion.
    rematch: list[str] = []

    async def waiting() -> bool:
        page = await director.get("/director/unmatched")
        rematch[:] = re.findall(r'href="/director/unmatched/([^"]+)">Fellow ' + mentee_id, page.text)
        return bool(rematch)

    await eventually(waiting, timeout=40)
    suggestions = await director.get(f"/director/unmatched/{rematch[0]}")
    assert "Suggested mentors" in suggestions.text
    suggested = re.findall(r'type="hidden" name="mentor_id" value="([^"]+)"', suggestions.text)
    assert suggested, "no suggestion to match from"
    matched = await director.post(f"/director/requests/{rematch[0]}/match", {"mentor_id": suggested[0]})
    assert matched.status_code == 303, matched.text

    async def rematched() -> bool:
        mine = (await stack.relationships.client.get("/relationships", headers=auth(mentee_id))).json()["items"]
        return [r["mentor_id"] for r in mine if r["phase"] != "closed"] == [suggested[0]]

    await eventually(rematched, timeout=40)

    stack.routes.down.add("relationships")
    try:
        down = await mentee.get("/relationships")
        assert down.status_code == 200 and "the relationships service is not answering" in down.text
        gone = await mentee.get(workspace)
        assert gone.status_code == 503 and "not answering" in gone.text and "Traceback" not in gone.text
    finally:
        stack.routes.down.discard("relationships")
    stranger = await stack.sign_in("mentee-nobody", Role.mentee)
    assert (await stranger.get(workspace)).status_code == 404
    assert "You have no mentoring relationship yet" in (await stranger.get("/relationships")).text
