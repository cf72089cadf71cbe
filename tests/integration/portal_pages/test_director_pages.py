"""The program director's pages, by form posts: the review queue (approve; decline with a reason, refused without
one), the unmatched queue with suggestions and an admin match (a second match explained as a conflict), program
settings, a bulk run proposed, overridden (a pair forbidden), committed, and the lagging pairs."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from shared.auth import Role
from tests.integration.service_harness import auth


async def test_the_director_reviews_matches_runs_bulk_and_sees_lagging_pairs(stack) -> None:
    mentors, mentees = await stack.people(3, 4)
    director = await stack.sign_in("director-1", Role.admin)
    api = stack.matching.client

    async def submit(mentee_id: str, *ranked: str) -> str:
        body = {"biography": f"Bio of {mentee_id}", "motivation": "Grant writing", "ranked_mentor_ids": list(ranked)}
        answer = await api.post("/requests", headers=auth(mentee_id, Role.mentee), json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()["request_id"]

    async def status_of(request_id: str) -> str:
        return (await api.get(f"/requests/{request_id}", headers=auth("director-1", Role.admin))).json()["status"]

    first = await submit(mentees[0], mentors[0])
    second = await submit(mentees[1], mentors[1])

    queue = await director.get("/director/reviews")
    assert queue.status_code == 200
    assert f"Fellow {mentees[0]}" in queue.text and f"Bio of {mentees[0]}" in queue.text
    assert f"Dr {mentors[0]}" in queue.text  # the ranked mentors by name
    no_reason = await director.post(f"/director/requests/{second}/review", {"decision": "decline"})
    assert no_reason.status_code == 422
    assert f'id="decline_reason-{second}-error">a declined request needs a reason' in no_reason.text
    declined = await director.post(
        f"/director/requests/{second}/review", {"decision": "decline", f"decline_reason.{second}": "Not eligible yet"}
    )
    assert declined.status_code == 303 and await status_of(second) == "declined"
    approved = await director.post(f"/director/requests/{first}/review", {"decision": "approve"})
    assert approved.status_code == 303 and await status_of(first) == "forwarded"
    twice = await director.post(f"/director/requests/{first}/review", {"decision": "approve"})
    assert twice.status_code == 409 and "Someone changed this meanwhile" in unescape(twice.text)
    assert "No request waits for your review" in (await director.get("/director/reviews")).text

    # The only choice declines: the mentee waits in the unmatched queue, matched from a suggestion.
    answer = await api.post(
        f"/requests/{first}/response", headers=auth(mentors[0], Role.mentor), json={"accepted": False}
    )
    assert answer.status_code == 200
    unmatched = await director.get("/director/unmatched")
    assert f"/director/unmatched/{first}" in unmatched.text and f"Fellow {mentees[0]}" in unmatched.text
    page = await director.get(f"/director/unmatched/{first}")
    assert page.status_code == 200 and "Suggested mentors" in page.text and "score" in page.text
    unknown = await director.post(f"/director/requests/{first}/match", {"mentor_id": "nobody"})
    assert unknown.status_code == 422 and 'id="mentor_id-error"' in unknown.text and 'value="nobody"' in unknown.text
    matched = await director.post(f"/director/requests/{first}/match", {"mentor_id": mentors[1]})
    assert matched.status_code == 303 and await status_of(first) == "matched"
    again = await director.post(f"/director/requests/{first}/match", {"mentor_id": mentors[2]})
    assert again.status_code == 409 and "Someone changed this meanwhile" in unescape(again.text)
    relationship_id = await stack.relationship_of(mentors[1])

    # Program settings: refused values next to their fields, then saved.
    settings = await director.get("/director/program")
    assert settings.status_code == 200 and 'name="days" type="number" value="7"' in settings.text
    weights = {k: "100" for k in ("specialty", "interests", "career_stage", "language", "time_zone", "preferences")}
    bad = await director.post("/director/program/weights", {**weights, "specialty": "2000"})
    assert bad.status_code == 422 and 'id="specialty-error"' in bad.text and 'value="2000"' in bad.text
    assert (await director.post("/director/program/weights", {**weights, "specialty": "400"})).status_code == 303
    assert (await director.post("/director/program/deadline", {"days": "0"})).status_code == 422
    assert (await director.post("/director/program/deadline", {"days": "10"})).status_code == 303
    program = (await api.get("/programs/default", headers=auth("director-1", Role.admin))).json()
    assert program["weights"]["specialty"] == 400 and program["response_days"] == 10

    # Bulk matching for a named cohort: proposed, one pair forbidden (proposed again), committed.
    cohort = "\n".join(mentees[2:])
    malformed = await director.post("/director/bulk", {"mode": "stable", "mentee_ids": cohort, "pinned": "only-one"})
    assert malformed.status_code == 422 and 'id="pinned-error">line 1: write a mentee id, then a mentor id' in (
        malformed.text
    )
    proposed = await director.post("/director/bulk", {"mode": "stable", "mentee_ids": cohort})
    assert proposed.status_code == 303, proposed.text
    run_page = proposed.headers["location"].split("?")[0]
    report = await director.get(run_page)
    assert report.status_code == 200
    for shown in ("2 of 2 mentees", "Blocking pairs", "Price of stability", "Score distribution", "Commit"):
        assert shown in report.text, shown
    run_id = run_page.rsplit("/", 1)[1]
    pairs = (await api.get(f"/bulk-runs/{run_id}", headers=auth("director-1", Role.admin))).json()["pairs"]
    forbidden = pairs[0]
    revised = await director.post(
        f"{run_page}/revise",
        {"mode": "stable", "mentee_ids": cohort, "forbid": f"{forbidden['mentee_id']} {forbidden['mentor_id']}"},
    )
    assert revised.status_code == 303, revised.text
    new_page = revised.headers["location"].split("?")[0]
    assert new_page != run_page and "Discarded." in (await director.get(run_page)).text
    new_id = new_page.rsplit("/", 1)[1]
    new_pairs = (await api.get(f"/bulk-runs/{new_id}", headers=auth("director-1", Role.admin))).json()["pairs"]
    assert (forbidden["mentee_id"], forbidden["mentor_id"]) not in {(p["mentee_id"], p["mentor_id"]) for p in new_pairs}
    committed = await director.post(f"{new_page}/commit")
    assert committed.status_code == 303
    assert "Committed: every pair below is matched." in (await director.get(new_page)).text
    late = await director.post(f"{new_page}/discard")
    assert late.status_code == 409 and "Someone changed this meanwhile" in unescape(late.text)
    assert "committed" in (await director.get("/director/bulk")).text

    # Lagging pairs: the admin-matched pair has not met for 70 days.
    stack.clock.advance(timedelta(days=70))
    try:
        await stack.relationships.fire_timers()
        lagging = await director.get("/director/lagging")
        assert lagging.status_code == 200 and f"/relationships/{relationship_id}" in lagging.text
        assert f"Dr {mentors[1]}" in lagging.text and "none yet" in lagging.text
        overview = await director.get("/director")
        lagging_count = re.search(r"(\d+) pairs? ha(?:s|ve) not met within", overview.text)
        assert lagging_count and int(lagging_count.group(1)) >= 1  # the bulk run's pairs may have started by now too
    finally:
        stack.clock.advance(timedelta(days=-70))

    stack.routes.down.add("matching")
    try:
        down = await director.get("/director")
        assert down.status_code == 200 and "the matching service is not answering" in down.text
    finally:
        stack.routes.down.discard("matching")
    mentee = await stack.sign_in(mentees[3], Role.mentee)
    refused = await mentee.get("/director/reviews")
    assert refused.status_code == 403 and "program director" in refused.text
