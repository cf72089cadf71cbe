"""Programs on the portal, by form posts against matching and relationships: the director defines, edits (a
refusal at its field, a stale edit as a conflict), enrols and forms a group; participants enrol (a mentor with a
capacity of their own or sharing theirs) and leave; the group's workspace lists everyone, its meeting form ticks
the attendees, a member leaves; a peer program's bulk run proposes circles; the review queue and the request form
know the program."""

from __future__ import annotations

from html import unescape

from shared.auth import Role
from tests.helpers import eventually
from tests.integration.service_harness import auth

DIRECTOR = auth("director-1", Role.admin)


def program_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Residents' group mentoring",
        "model": "group",
        "matching_mode": "admin",
        "priority_policy": "first",
        "starts_on": "2026-01-01",
        "ends_on": "",
        "group_size_max": "4",
        "circle_size": "",
        "eligibility.departments": "",
        "eligibility.career_stages": "",
        "eligibility.priority_groups": "",
        "eligibility.hr_attributes": "",
        "response_days": "7",
        "cadence_weeks_min": "2",
        "cadence_weeks_max": "6",
        "review_interval_months": "6",
        "inactivity_days": "90",
        "surveys": "",
    }
    form |= {f"weights.{w}": "100" for w in ("specialty", "interests", "career_stage", "language", "time_zone")}
    form["weights.preferences"] = "100"
    return form | changes


async def test_the_director_defines_programs_and_participants_enrol_form_groups_and_leave(stack) -> None:
    mentors, mentees = await stack.people(2, 5)
    director = await stack.sign_in("director-1", Role.admin)
    api = stack.matching.client

    listed = await director.get("/director/programs")
    assert listed.status_code == 200 and 'id="program-default"' in listed.text

    # Define: what the portal cannot read, and what matching refuses, at the field with what was typed.
    malformed = await director.post(
        "/director/programs", program_form(program_id="residents", **{"eligibility.hr_attributes": "no colon"})
    )
    assert malformed.status_code == 422 and 'id="eligibility-hr_attributes-error">line 1' in malformed.text
    refused = await director.post("/director/programs", program_form(program_id="residents", cadence_weeks_min="x"))
    assert refused.status_code == 422 and 'id="cadence_weeks_min-error"' in refused.text
    assert 'value="x"' in refused.text and "Residents&#39; group mentoring" in refused.text
    no_size = await director.post("/director/programs", program_form(program_id="residents", group_size_max=""))
    assert no_size.status_code == 422 and 'id="group_size_max-error"' in no_size.text
    created = await director.post("/director/programs", program_form(program_id="residents"))
    assert created.status_code == 303, created.text
    assert created.headers["location"].startswith("/director/programs/residents?done=program_created")
    twice = await director.post("/director/programs", program_form(program_id="residents"))
    assert twice.status_code == 409 and "Someone changed this meanwhile" in unescape(twice.text)

    # Edit: a refusal at its field; an edit read at an older version is a conflict.
    page = await director.get("/director/programs/residents")
    assert page.status_code == 200 and 'name="version" value="1"' in page.text and "Form a group" in page.text
    backwards = await director.post(
        "/director/programs/residents", program_form(version="1", starts_on="2026-06-01", ends_on="2026-01-01")
    )
    assert backwards.status_code == 422 and 'id="ends_on-error"' in backwards.text
    assert 'value="2026-06-01"' in backwards.text
    saved = await director.post("/director/programs/residents", program_form(version="1", name="Residents' groups"))
    assert saved.status_code == 303
    stale = await director.post("/director/programs/residents", program_form(version="1", name="Stale"))
    assert stale.status_code == 409 and "Someone changed this meanwhile" in unescape(stale.text)
    assert (await api.get("/programs/residents", headers=DIRECTOR)).json()["name"] == "Residents' groups"

    # Enrolment by the director (a refusal at the field), and by the participants themselves.
    unknown = await director.post("/director/programs/residents/enrolments", {"participant_id": "", "role": "mentee"})
    assert unknown.status_code == 422 and 'id="participant_id-error"' in unknown.text
    for mentee_id in mentees[:2]:
        enrolled = await director.post(
            "/director/programs/residents/enrolments", {"participant_id": mentee_id, "role": "mentee"}
        )
        assert enrolled.status_code == 303, enrolled.text
    again = await director.post(
        "/director/programs/residents/enrolments", {"participant_id": mentees[0], "role": "mentee"}
    )
    assert again.status_code == 409 and 'id="participant_id-error"' in again.text

    mentee = await stack.sign_in(mentees[2], Role.mentee)
    offered = await mentee.get("/programs")
    assert (
        offered.status_code == 200
        and 'id="program-residents"' in offered.text
        and "Residents' groups" in (unescape(offered.text))
    )
    assert (await mentee.post("/programs/residents/enrol", {"role": "mentee"})).status_code == 303
    assert "You are enrolled as Mentee" in (await mentee.get("/programs?done=program_joined")).text
    mentor = await stack.sign_in(mentors[0], Role.mentor)
    bad_capacity = await mentor.post(
        "/programs/residents/enrol", {"role": "mentor", "capacity_choice": "own", "capacity.residents": "-1"}
    )
    assert bad_capacity.status_code == 422 and 'id="capacity-residents-error"' in bad_capacity.text
    assert 'value="-1"' in bad_capacity.text
    own = await mentor.post(
        "/programs/residents/enrol", {"role": "mentor", "capacity_choice": "own", "capacity.residents": "1"}
    )
    assert own.status_code == 303
    co_mentor = await stack.sign_in(mentors[1], Role.mentor)
    assert (await co_mentor.post("/programs/residents/enrol", {"role": "mentor"})).status_code == 303
    enrolments = (await api.get("/programs/residents/enrolments", headers=DIRECTOR)).json()["enrolments"]
    capacities = {e["participant_id"]: e["capacity"] for e in enrolments if e["role"] == "mentor"}
    assert capacities == {mentors[0]: 1, mentors[1]: None}
    leaving = await stack.sign_in(mentees[3], Role.mentee)
    assert (await leaving.post("/programs/residents/enrol", {"role": "mentee"})).status_code == 303
    assert (await leaving.post("/programs/residents/leave")).status_code == 303
    assert "You left the program" in (await leaving.get("/programs?done=program_left")).text
    removed = await director.post(f"/director/programs/residents/enrolments/{mentees[1]}/remove")
    assert removed.status_code == 303

    # A group: none of the mentees picked is refused at the field; then two mentors and two mentees.
    page = await director.get("/director/programs/residents")
    assert f'value="{mentees[2]}"' in page.text and f'value="{mentees[1]}"' not in page.text
    empty = await director.post("/director/programs/residents/groups", [("mentor_ids", mentors[0])])
    assert empty.status_code == 422 and 'id="mentee_ids-error"' in empty.text
    assert f'id="group-mentor-{mentors[0]}" name="mentor_ids" value="{mentors[0]}" checked' in empty.text
    formed = await director.post(
        "/director/programs/residents/groups",
        [
            ("mentor_ids", mentors[0]),
            ("mentor_ids", mentors[1]),
            ("mentee_ids", mentees[0]),
            ("mentee_ids", mentees[2]),
        ],
    )
    assert formed.status_code == 303, formed.text
    group_id = await stack.relationship_of(mentors[0])

    home = await mentee.get("/")
    assert "Residents&#39; groups" in home.text and f"/relationships/{group_id}" in home.text
    workspace = await mentee.get(f"/relationships/{group_id}")
    assert workspace.status_code == 200 and "Members and mentors" in workspace.text
    for person in (mentors[0], mentors[1], mentees[0]):
        assert person in workspace.text
    assert 'id="leave-form"' in workspace.text and 'id="closure-form"' not in workspace.text
    logged = await mentor.post(
        f"/relationships/{group_id}/meetings",
        [
            ("held_on", "2026-03-02"),
            ("duration_minutes", "60"),
            ("meeting_format", "video"),
            ("attendance", "ticked"),
            ("attendee_ids", mentors[0]),
            ("attendee_ids", mentees[2]),
        ],
    )
    assert logged.status_code == 303, logged.text
    rel = await stack.relationships.client.get(f"/relationships/{group_id}", headers=auth(mentors[0], Role.mentor))
    assert set(rel.json()["meetings"][0]["attendee_ids"]) == {mentors[0], mentees[2]}
    nobody = await mentor.post(
        f"/relationships/{group_id}/meetings",
        [("held_on", "2026-03-02"), ("duration_minutes", "60"), ("meeting_format", "video"), ("attendance", "ticked")],
    )
    assert nobody.status_code == 422 and "attendee" in nobody.text
    left = await mentee.post(f"/relationships/{group_id}/leave")
    assert left.status_code == 303 and left.headers["location"].startswith("/relationships?done=pair_left")

    async def gone() -> bool:
        answer = await stack.relationships.client.get(f"/relationships/{group_id}", headers=DIRECTOR)
        return mentees[2] not in answer.json()["mentee_ids"]

    await eventually(gone, timeout=20)

    # A peer program: its bulk run proposes circles, which the run's page shows, then commits.
    circles = program_form(name="New-hire circles", model="peer", matching_mode="bulk", group_size_max="")
    assert (
        await director.post("/director/programs", circles | {"circle_size": "2", "program_id": "new-hires"})
    ).status_code == 303
    peers = [mentees[1], mentees[3], mentees[4], mentors[1]]
    for peer in peers:
        answer = await director.post(
            "/director/programs/new-hires/enrolments", {"participant_id": peer, "role": "peer"}
        )
        assert answer.status_code == 303, answer.text
    bulk = await director.get("/director/bulk")
    assert '<option value="new-hires">New-hire circles</option>' in bulk.text
    proposed = await director.post("/director/bulk", {"mode": "optimal", "program_id": "new-hires"})
    assert proposed.status_code == 303, proposed.text
    run_page = proposed.headers["location"].split("?")[0]
    report = await director.get(run_page)
    assert report.status_code == 200 and "Peer circles" in report.text and "2 circles of about 2 peers" in report.text
    assert (await director.post(f"{run_page}/commit")).status_code == 303
    assert "2 circles for 4 peers" in (await director.get("/director/bulk")).text
    circle_page = await director.get("/director/programs/new-hires")
    assert "Form a circle" in circle_page.text and 'name="mentor_ids"' not in circle_page.text
    taken = await director.post(
        "/director/programs/new-hires/groups", [("mentee_ids", mentees[1]), ("mentee_ids", mentees[3])]
    )
    assert taken.status_code == 422 and 'id="form-errors"' in taken.text  # already in circles
    peer = await stack.sign_in(mentees[4], Role.mentee)
    circle: list[str] = []

    async def circle_started() -> bool:
        answer = await stack.relationships.client.get("/relationships", headers=auth(mentees[4], Role.mentee))
        circle[:] = [r["relationship_id"] for r in answer.json()["items"] if r["model"] == "peer"]
        return bool(circle)

    await eventually(circle_started, timeout=40)
    mine = await peer.get("/relationships")
    assert "New-hire circles" in mine.text and "Peer circle with" in mine.text
    workspace = await peer.get(f"/relationships/{circle[0]}")
    assert (
        workspace.status_code == 200 and "Leave the circle" in workspace.text and 'id="closure-form"' in workspace.text
    )
    assert 'name="attendee_ids"' in workspace.text

    # The review queue names each request's program; the request form offers the programs that take requests.
    review = program_form(name="Faculty career", model="one_to_one", matching_mode="director_review", group_size_max="")
    assert (await director.post("/director/programs", review | {"program_id": "faculty"})).status_code == 303
    asker = await stack.sign_in(mentees[4], Role.mentee)
    assert (await asker.post("/programs/faculty/enrol", {"role": "mentee"})).status_code == 303
    for mentor_id in mentors:
        assert (
            await api.post(
                "/programs/faculty/enrolments", headers=auth(mentor_id, Role.mentor), json={"role": "mentor"}
            )
        ).status_code == 201
    compose = await asker.post(  # the form shown again (profiles, which fills a new one, is not in this stack)
        "/request/new", {"biography": "Resident", "motivation": "Career", "action": "add", "candidate": mentors[1]}
    )
    assert '<option value="faculty">Faculty career</option>' in compose.text
    assert "Residents" not in unescape(compose.text)  # an admin-matched program takes no request
    submitted = await asker.post(
        "/request/new",
        {
            "program_id": "faculty",
            "biography": "Resident",
            "motivation": "Career",
            "ranked": mentors[1],
            "action": "submit",
        },
    )
    assert submitted.status_code == 303, unescape(submitted.text)[-1500:]
    queue = await director.get("/director/reviews")
    assert "Program: Faculty career" in queue.text
