"""The director-reviewed request flow over HTTP: submit, review, forward in turn, answer, match."""

from __future__ import annotations

from shared.auth import Role
from shared.bus import topic_for
from shared.envelope import Envelope
from tests.helpers import consume_all, unique
from tests.integration.matching.conftest import (
    DIRECTOR,
    DIRECTOR_ID,
    days,
    deactivated,
    mentee_registered,
    mentor_registered,
)
from tests.integration.service_harness import auth


async def test_declined_by_the_first_choice_accepted_by_the_second(service) -> None:
    first, second, mentee = unique("mentor"), unique("mentor"), unique("mentee")
    await service.feed(mentor_registered(first), mentor_registered(second), mentee_registered(mentee))
    rid = await service.submit(mentee, first, second)
    assert (await service.request(rid))["status"] == "submitted"

    await service.approve(rid)
    forwarded = await service.request(rid)
    assert forwarded["status"] == "forwarded" and forwarded["mentor_id"] == first and forwarded["choice_rank"] == 1
    assert forwarded["respond_by"].startswith("2026-03-09T09:00")  # default 7 days

    wrong_mentor = await service.answer(rid, second, True)  # ranked, not yet asked: not theirs to know of
    assert (wrong_mentor.status_code, wrong_mentor.json()) == (404, {"detail": f"no request {rid}"})
    declined = await service.answer(rid, first, False)
    assert declined.status_code == 200, declined.text
    assert (await service.request(rid))["mentor_id"] == second

    service.clock.advance(days(2))
    accepted = await service.answer(rid, second, True)
    assert accepted.status_code == 200, accepted.text
    view = await service.request(rid)
    assert view["status"] == "matched" and view["matched_mentor_id"] == second
    assert await service.event_types(rid) == [
        "RequestRanked",
        "RequestReviewed",
        "RequestForwarded",
        "MentorResponded",
        "RequestForwarded",
        "MentorResponded",
        "MatchApproved",
    ]
    [match] = await service.events(rid, "MatchApproved")
    assert match["mentor_id"] == second and match["choice_rank"] == 2 and match["mode"] == "director"
    assert match["match_id"] == rid and match["time_to_match_seconds"] == days(2).total_seconds()
    assert await service.load(second) == 1 and await service.load(first) == 0
    again = await service.answer(rid, second, True)
    assert again.status_code == 409

    records = await consume_all(service.bootstrap, topic_for("matching"), expected=10_000, timeout=8)
    ours = [Envelope.from_bytes(r.value).type for r in records if r.key == rid.encode()]
    assert ours[-1] == "MatchApproved" and len(ours) == 7


async def test_the_director_declines_with_a_reason_and_reviews_once(service) -> None:
    mentor, mentee = unique("mentor"), unique("mentee")
    await service.feed(mentor_registered(mentor), mentee_registered(mentee))
    rid = await service.submit(mentee, mentor)

    no_reason = await service.client.post(f"/requests/{rid}/review", headers=DIRECTOR, json={"approved": False})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "decline_reason"]
    as_mentor = await service.client.post(
        f"/requests/{rid}/review", headers=auth(mentor, Role.mentor), json={"approved": True}
    )
    assert as_mentor.status_code == 403
    declined = await service.client.post(
        f"/requests/{rid}/review",
        headers=DIRECTOR,
        json={"approved": False, "decline_reason": "Not a mentoring request"},
    )
    assert declined.status_code == 200
    view = await service.request(rid)
    assert view["status"] == "declined" and view["decline_reason"] == "Not a mentoring request"
    twice = await service.client.post(f"/requests/{rid}/review", headers=DIRECTOR, json={"approved": True})
    assert twice.status_code == 409 and "declined" in twice.json()["detail"]
    [reviewed] = await service.events(rid, "RequestReviewed")
    assert reviewed["reviewer_id"] == DIRECTOR_ID and reviewed["approved"] is False
    missing = await service.client.post("/requests/nope/review", headers=DIRECTOR, json={"approved": True})
    assert missing.status_code == 404
    # a declined request is closed: the mentee may ask again
    await service.submit(mentee, mentor)


async def test_all_choices_exhausted_returns_to_the_director_for_an_admin_match(service) -> None:
    a, b, c, other, mentee = (unique(p) for p in ("mentor", "mentor", "mentor", "mentor", "mentee"))
    await service.feed(*(mentor_registered(m) for m in (a, b, c, other)), mentee_registered(mentee))
    rid = await service.submit(mentee, a, b, c)
    await service.approve(rid)
    for mentor in (a, b, c):
        assert (await service.answer(rid, mentor, False)).status_code == 200
    view = await service.request(rid)
    assert view["status"] == "unmatched" and view["forwarded_to"] == [a, b, c]
    [unmatched] = await service.events(rid, "RequestUnmatched")
    assert unmatched["tried_mentor_ids"] == [a, b, c]
    listing = await service.client.get("/requests", params={"status": "unmatched"}, headers=DIRECTOR)
    assert [r["request_id"] for r in listing.json()["items"]] == [rid]

    not_admin = await service.client.post(
        f"/requests/{rid}/match", headers=auth(mentee, Role.mentee), json={"mentor_id": other}
    )
    assert not_admin.status_code == 403
    unknown = await service.client.post(f"/requests/{rid}/match", headers=DIRECTOR, json={"mentor_id": "ghost"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "mentor_id"]
    matched = await service.client.post(f"/requests/{rid}/match", headers=DIRECTOR, json={"mentor_id": other})
    assert matched.status_code == 200, matched.text
    [match] = await service.events(rid, "MatchApproved")
    assert match["mode"] == "admin" and match["mentor_id"] == other and match["choice_rank"] is None
    assert match["approved_by"] == DIRECTOR_ID and match["request_id"] == rid
    assert await service.load(other) == 1
    again = await service.client.post(f"/requests/{rid}/match", headers=DIRECTOR, json={"mentor_id": a})
    assert again.status_code == 409
    has_mentor = await service.client.post(
        "/requests",
        headers=auth(mentee, Role.mentee),
        json={"biography": "x", "motivation": "y", "ranked_mentor_ids": [a]},
    )
    assert has_mentor.status_code == 409 and "already has a mentor" in has_mentor.json()["detail"]


async def test_a_submission_breaking_a_rule_is_refused_naming_the_field(service) -> None:
    ok, gone, full, mentee, other = (unique(p) for p in ("mentor", "mentor", "mentor", "mentee", "mentee"))
    await service.feed(
        mentor_registered(ok),
        mentor_registered(gone),
        mentor_registered(full, capacity=0),
        mentee_registered(mentee),
        mentee_registered(other),
        deactivated(gone),
    )
    as_mentee = auth(mentee, Role.mentee)

    async def refused(body_changes: dict, status: int = 422) -> str:
        body = {"biography": "Fellow", "motivation": "Grants", "ranked_mentor_ids": [ok], **body_changes}
        response = await service.client.post("/requests", headers=as_mentee, json=body)
        assert response.status_code == status, response.text
        return response.json()["detail"]

    for ranked, reason in (
        ([ok, "ghost"], "not a mentor"),
        ([gone], "not active"),
        ([full], "no capacity"),
        ([ok, mentee], "themselves"),
        ([ok, ok], "distinct"),
    ):
        [detail] = await refused({"ranked_mentor_ids": ranked})
        assert detail["loc"] == ["body", "ranked_mentor_ids"] and reason in detail["msg"], detail
    too_many = await refused({"ranked_mentor_ids": [ok, gone, full, "x"]})
    assert too_many[0]["loc"] == ["body", "ranked_mentor_ids"]
    empty = await refused({"ranked_mentor_ids": []})
    assert empty[0]["loc"] == ["body", "ranked_mentor_ids"]
    no_bio = await refused({"biography": ""})
    assert no_bio[0]["loc"] == ["body", "biography"]
    no_motivation = await refused({"motivation": None})
    assert no_motivation[0]["loc"] == ["body", "motivation"]

    rid = await service.submit(mentee, ok)
    detail = await refused({}, status=409)
    assert f"already has an open request {rid}" in detail
    await service.approve(rid)
    assert f"already has an open request {rid}" in await refused({}, status=409)

    as_mentor = await service.client.post(
        "/requests",
        headers=auth(ok, Role.mentor),
        json={"biography": "x", "motivation": "y", "ranked_mentor_ids": [full]},
    )
    assert as_mentor.status_code == 403
    anonymous = await service.client.post("/requests", json={})
    assert anonymous.status_code == 401
    unregistered = await service.client.post(
        "/requests",
        headers=auth(unique("nobody"), Role.mentee),
        json={"biography": "x", "motivation": "y", "ranked_mentor_ids": [ok]},
    )
    assert unregistered.status_code == 409 and "not a registered mentee" in unregistered.json()["detail"]


async def test_parties_read_only_their_own_requests_and_the_mentee_withdraws(service) -> None:
    first, second, mentee, stranger = (unique(p) for p in ("mentor", "mentor", "mentee", "mentee"))
    await service.feed(
        mentor_registered(first), mentor_registered(second), mentee_registered(mentee), mentee_registered(stranger)
    )
    rid = await service.submit(mentee, first, second)
    await service.approve(rid)

    assert (await service.client.get(f"/requests/{rid}", headers=auth(mentee, Role.mentee))).status_code == 200
    assert (await service.client.get(f"/requests/{rid}", headers=auth(first, Role.mentor))).status_code == 200
    for outsider in (auth(second, Role.mentor), auth(stranger, Role.mentee)):  # exactly as an id nobody holds
        refused = await service.client.get(f"/requests/{rid}", headers=outsider)
        assert (refused.status_code, refused.json()) == (404, {"detail": f"no request {rid}"})
    unknown = await service.client.get("/requests/r-unknown", headers=auth(stranger, Role.mentee))
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "no request r-unknown"})
    mine = await service.client.get("/requests", headers=auth(first, Role.mentor))
    assert [r["request_id"] for r in mine.json()["items"]] == [rid]
    theirs = await service.client.get("/requests", headers=auth(stranger, Role.mentee))
    assert theirs.json()["items"] == []

    by_stranger = await service.client.post(f"/requests/{rid}/withdrawal", headers=auth(stranger, Role.mentee), json={})
    assert (by_stranger.status_code, by_stranger.json()) == (404, {"detail": f"no request {rid}"})
    withdrawn = await service.client.post(
        f"/requests/{rid}/withdrawal", headers=auth(mentee, Role.mentee), json={"reason": "found a mentor elsewhere"}
    )
    assert withdrawn.status_code == 200
    assert (await service.request(rid))["status"] == "withdrawn"
    assert (await service.answer(rid, first, True)).status_code == 409
    pending = await service.runtime.pool.fetchval(
        "SELECT count(*) FROM timers WHERE subject = $1 AND fired_at IS NULL AND cancelled_at IS NULL", rid
    )
    assert pending == 0
    assert (await service.client.post(f"/requests/{rid}/withdrawal", headers=DIRECTOR, json={})).status_code == 409
