"""The portal against the real services and the real provider: each person signs in through the provider's form; the
mentee edits their profile, browses and filters the directory with suggestions, composes and reorders a request and
follows it as a timeline; the mentor answers from their inbox and changes their settings; 422s are shown next to the
field, 409s as "someone changed this", and a service down as a section of the page."""

from __future__ import annotations

import re

import httpx

from tests.integration.portal.conftest import ADMIN, MENTEE, MENTOR, OTHER_MENTORS, Stack, sign_in


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def text_of(page: httpx.Response) -> str:
    """The page's visible text, roughly: tags dropped, whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", page.text.split("<main", 1)[-1]).split())


def error_next_to(page: httpx.Response, field_id: str) -> str:
    """The error shown with a field: the ``<p class="field-error" id="<field>-error">`` the input refers to."""
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]+)</p>', page.text)
    assert found, f"no error next to {field_id}"
    assert f'aria-describedby="{field_id}-error"' in page.text or f'{field_id}-error"' in page.text
    return found.group(1)


async def test_the_mentee_and_the_mentor_use_their_pages(stack: Stack) -> None:
    async with stack.client() as mentee, stack.client() as mentor:
        assert (await mentee.get("/")).headers["location"] == "/login"
        await sign_in(mentee, stack.provider.issuer, "mentee")
        home = await mentee.get("/")
        assert home.status_code == 200 and '<html lang="en">' in home.text
        assert "Finding a mentor" in text_of(home) and "the matching service is not answering" not in home.text
        assert "the relationships service is not answering" in home.text  # not in this stack: its part says so
        assert 'href="/mentor/inbox"' not in home.text  # no mentor's navigation for a mentee

        # the profile: read from profiles, a 422 next to its field, then saved
        profile = await mentee.get("/profile")
        assert profile.status_code == 200 and "Cardiology fellow." in profile.text
        form = {
            "csrf": csrf_of(profile),
            "version": re.search(r'name="version" value="(\d+)"', profile.text).group(1),  # type: ignore[union-attr]
            "profile.biography": "Cardiology fellow, interested in imaging.",
            "profile.specialty": "cardiology",
            "profile.interests": "imaging, " + "x" * 150,
            "profile.languages": "en, pt-BR",
            "profile.time_zone": "Europe/Lisbon",
            "profile.career_stage": "early_career",
        }
        refused = await mentee.post("/profile", data=form)
        assert refused.status_code == 422
        assert "100" in error_next_to(refused, "profile-interests")  # profiles' reason, shown by the field
        assert "imaging" in refused.text  # what was typed stays
        saved = await mentee.post("/profile", data=form | {"profile.interests": "imaging, research"})
        assert saved.status_code == 303 and saved.headers["location"] == "/profile?done=profile"
        again = await mentee.get(saved.headers["location"])
        assert "Your profile is saved." in again.text and "Europe/Lisbon" in again.text
        stale = await mentee.post("/profile", data=form | {"profile.interests": "imaging"})  # the old version
        assert stale.status_code == 409 and "Someone changed this meanwhile — reload." in stale.text

        # the directory, filtered, and the suggestions with their reasons
        directory = await mentee.get("/mentors")
        assert directory.status_code == 200 and "Maria Mentor" in directory.text
        assert "Suggested for you" in directory.text and "Match " in directory.text
        assert "3 mentors found." in text_of(directory)
        none = await mentee.get("/mentors", params={"format": "phone"})
        assert "No mentor matches these filters." in none.text
        some = await mentee.get("/mentors", params={"format": "in_person", "open": "1", "language": "de"})
        assert "3 mentors found." in text_of(some)

        # composing: add, reorder with the buttons, a 422 next to its field, then submitted
        compose = await mentee.get("/request/new", params={"add": OTHER_MENTORS[0]})
        assert compose.status_code == 200 and "Cardiology fellow, interested in imaging." in compose.text
        base = {"csrf": csrf_of(compose), "biography": "Cardiology fellow.", "motivation": ""}
        added = await mentee.post(
            "/request/new", data=base | {"ranked": [OTHER_MENTORS[0]], "action": "add", "candidate": MENTOR}
        )
        assert re.findall(r'name="ranked" value="([^"]+)"', added.text) == [OTHER_MENTORS[0], MENTOR]
        moved = await mentee.post("/request/new", data=base | {"ranked": [OTHER_MENTORS[0], MENTOR], "action": "up:1"})
        assert re.findall(r'name="ranked" value="([^"]+)"', moved.text) == [MENTOR, OTHER_MENTORS[0]]
        ranked = {"ranked": [MENTOR, OTHER_MENTORS[0]], "action": "submit"}
        missing = await mentee.post("/request/new", data=base | ranked)
        assert missing.status_code == 422 and error_next_to(missing, "motivation")
        submitted = await mentee.post("/request/new", data=base | ranked | {"motivation": "Grant writing."})
        assert submitted.status_code == 303 and submitted.headers["location"] == "/request?done=request"
        status = text_of(await mentee.get("/request"))
        assert "Waiting for the program director's review" in status
        assert "Then, if needed: choice 2, Dr E30001" in status

        # the director approves (their pages are another part): forwarded to the first choice
        matching = stack.services["matching"]
        request_id = (await matching.get("/requests", headers=ADMIN)).json()["items"][0]["request_id"]
        reviewed = await matching.post(f"/requests/{request_id}/review", json={"approved": True}, headers=ADMIN)
        assert reviewed.status_code == 200, reviewed.text
        status = text_of(await mentee.get("/request"))
        assert "Forwarded to your choice 1, Maria Mentor" in status and "7 days and 0 hours left" in status, status

        # the mentor's inbox: the mentee's biography, motivation and the time left; a decline needs a reason
        await sign_in(mentor, stack.provider.issuer, "mentor")
        inbox = await mentor.get("/mentor/inbox")
        assert inbox.status_code == 200
        assert "Grant writing." in inbox.text and "Cardiology fellow." in inbox.text
        assert "7 days and 0 hours left" in text_of(inbox)
        respond = f"/mentor/requests/{request_id}/respond"
        bare = await mentor.post(respond, data={"csrf": csrf_of(inbox), "decision": "decline", "reason": ""})
        assert bare.status_code == 422 and "give the mentee a reason" in error_next_to(bare, "reason-1")
        forged = await mentor.post(respond, data={"csrf": "forged", "decision": "accept"})
        assert forged.status_code == 403
        declined = await mentor.post(respond, data={"csrf": csrf_of(inbox), "decision": "decline", "reason": "Full."})
        assert declined.status_code == 303 and declined.headers["location"] == "/mentor/inbox?done=declined"
        after = text_of(await mentor.get(declined.headers["location"]))
        assert "No request waits for your answer." in after and "declined" in after
        status = text_of(await mentee.get("/request"))
        assert "Choice 1 declined or did not answer in time" in status or "Choice 1 declined" in status
        assert "Forwarded to your choice 2, Dr E30001" in status

        # the mentor's settings: capacity with a stale version → 409; then saved
        settings = await mentor.get("/mentor/profile")
        assert settings.status_code == 200 and "Not trained yet" in settings.text
        version = re.search(r'name="version" value="(\d+)"', settings.text).group(1)  # type: ignore[union-attr]
        capacity = {"csrf": csrf_of(settings), "version": version, "capacity": "3"}
        assert (await mentor.post("/mentor/capacity", data=capacity)).headers[
            "location"
        ] == "/mentor/profile?done=capacity"
        stale = await mentor.post("/mentor/capacity", data=capacity | {"capacity": "4"})
        assert stale.status_code == 409 and "Someone changed this meanwhile — reload." in stale.text
        wrong = await mentor.post("/mentor/capacity", data=capacity | {"capacity": "many"})
        assert wrong.status_code == 422 and error_next_to(wrong, "capacity")

        # matching down: the page says so in a section; the rest of the layout is there, no trace
        cookies = dict(mentee.cookies)
        async with stack.client(stack.portal_down) as cut_off:
            cut_off.cookies.update(cookies)
            page = await cut_off.get("/request")
            assert page.status_code == 200 and "the matching service is not answering" in page.text
            assert "Traceback" not in page.text and 'href="/profile"' in page.text
            whole = await cut_off.post(
                "/request/new", data={"csrf": csrf_of(page), "biography": "b", "motivation": "m", "action": "submit"}
            )
            assert whole.status_code == 503 and "not answering" in whole.text and "Traceback" not in whole.text

        # withdrawn by the mentee
        page = await mentee.get("/request")
        withdrawn = await mentee.post(f"/request/{request_id}/withdraw", data={"csrf": csrf_of(page), "reason": ""})
        assert withdrawn.headers["location"] == "/request?done=withdrawn"
        status = text_of(await mentee.get(withdrawn.headers["location"]))
        assert "Your request is withdrawn." in status and "Withdrawn" in status


async def test_pages_need_a_session_and_serve_their_own_assets(stack: Stack) -> None:
    async with stack.client() as anonymous:
        for path in ("/", "/profile", "/mentors", "/request", "/mentor/inbox"):
            assert (await anonymous.get(path)).headers["location"] == "/login"
        css = await anonymous.get("/static/portal.css")
        htmx = await anonymous.get("/static/htmx.min.js")
        assert css.status_code == 200 and htmx.status_code == 200 and "htmx" in htmx.text
        # the session cookie opens the portal's pages only: the services take bearer tokens
        await sign_in(anonymous, stack.provider.issuer, "mentee")
        cookie = "; ".join(f"{name}={value}" for name, value in anonymous.cookies.items())
        assert (await stack.services["matching"].get("/requests", headers={"Cookie": cookie})).status_code == 401
        assert MENTEE not in (await anonymous.get("/login")).text
