"""The portal end to end, in headless Chromium (Debian's, driven by Playwright) on the real stack: profiles, matching,
relationships and notifications as their own processes on a broker and Postgres, the portal in front of them, the
development OpenID Connect provider and the development mail sink.

Each person signs in through the provider and plays the director-reviewed flow by clicking: a mentee ranks three
mentors, the director approves, the first choice declines, the second lets the deadline pass (the services' clock is
moved), the third accepts, the introduction mail appears in the development mail view; the pair negotiates and signs
an agreement, logs a meeting with a private note the director cannot read, sets a goal and records progress; the
mentee sets "my availability" (a window that ends before it starts is refused at its field first), the mentor proposes
a meeting in the workspace (a time outside that availability refused at its field first), the mentee accepts it on
the meeting's page, the clock moves past its end and the mentee answers "yes, it happened", then the pulse survey (a
missing answer refused at its question first); the mentee closes with no fault and asks for a rematch; the director
matches them from the unmatched queue with a suggestion, then runs, overrides (pin, forbid) and commits a bulk run
for a small cohort, and defines a program on the programs pages (an end before the start refused at its field first).

Every page the flow reaches is checked with axe-core (``node_modules/axe-core``, npm): no serious or critical
violation. Each is saved as a screenshot under ``test-artifacts/portal/`` (``pages.txt`` lists them with their URL
and axe's findings).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio

from mentorship.devstack.broker import start_tansu
from mentorship.devstack.demo.run import service_env as clock_env
from mentorship.devstack.mailsink import MailSink, start_mail_sink
from mentorship.devstack.oidc import STAFF_ACCOUNTS, DevAccount, OidcProvider, start_oidc_provider
from mentorship.stack import PORTAL, portal_settings, start_services
from shared.auth import Role, mint_token
from shared.clock import DevClockFile
from shared.settings import DEV_JWT_SECRET
from tests.e2e.test_dashboard_browser import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.test_dashboard_browser import sign_in as through_provider
from tests.helpers import cardiologist_profile, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # one stack and a browser for the module

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ARTIFACTS / "portal"
BACKEND = ("profiles", "matching", "relationships", "notifications")
DIRECTOR_EMAIL = "director@portal-e2e.example"
ADMIN = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'portal-e2e-seeder', [Role.admin])}"}
SERIOUS = ("serious", "critical")
WAIT_MS = 60_000
"""How long a click, a navigation or an expectation waits for the page (a bound, not a speed check: on a busy 2-core
machine a sign-in's redirects alone took over 20 s)."""
ZONE = ZoneInfo(cardiologist_profile()["time_zone"])  # every person's


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    employee_id: str
    role: str  # mentor, mentee (registered in profiles) or admin (the director)
    capacity: int = 1
    specialty: str = "cardiology"

    @property
    def email(self) -> str:
        return f"{self.username}@portal-e2e.example"

    def account(self) -> DevAccount:
        return DevAccount(self.username, self.name, self.employee_id, (self.role,))


MENTEE = Person("mentee", "Theo Mentee", "E30001", "mentee", specialty="cardiology")
FIRST = Person("mentor1", "Ada Okafor", "E30011", "mentor")
SECOND = Person("mentor2", "Ben Carter", "E30012", "mentor")
THIRD = Person("mentor3", "Chidi Obi", "E30013", "mentor")
SPARE = Person("mentor4", "Dana Ruiz", "E30014", "mentor", capacity=2)
COHORT = (
    Person("cohort1", "Eve Novak", "E30021", "mentee"),
    Person("cohort2", "Farid Haddad", "E30022", "mentee"),
)
PEOPLE = (MENTEE, FIRST, SECOND, THIRD, SPARE, *COHORT)
ACCOUNTS = (*STAFF_ACCOUNTS, *(p.account() for p in PEOPLE))


@dataclass
class Stack:
    portal: str
    urls: dict[str, str]
    provider: OidcProvider
    sink: MailSink
    clock: DevClockFile
    log_dir: Path


@pytest.fixture(scope="module")
def stack(postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack for the module: its own broker (no other test's events), the provider with these people, the sink,
    the services on a clock file the test moves (the portal too: its forms' "today" is the services' day)."""
    log_dir = tmp_path_factory.mktemp("portal-e2e")
    clock_file = log_dir / "dev-clock"
    prefix = f"portal_{uuid.uuid4().hex[:8]}"
    with (
        start_tansu(log_dir=log_dir) as broker,
        start_oidc_provider(accounts=ACCOUNTS, log_dir=log_dir) as provider,
        start_mail_sink(log_dir / "mail", fixed_ports=False, log_dir=log_dir) as sink,
        start_services(
            postgres,
            broker.bootstrap,
            log_dir,
            names=BACKEND,
            database_prefix=prefix,
            extra_env=provider.service_env() | clock_env(clock_file) | {"MENTORSHIP_DEV_MODE": "1"},
            service_env_overrides={
                "notifications": sink.notifications_env()
                | {"MENTORSHIP_NOTIFICATIONS_DIRECTOR_EMAILS": json.dumps([DIRECTOR_EMAIL])}
            },
        ) as services,
        start_services(
            postgres,
            broker.bootstrap,
            log_dir,
            names=(PORTAL,),
            database_prefix=prefix,
            extra_env=provider.portal_env()
            | portal_settings(services, sink.url)
            | clock_env(clock_file)
            | {"MENTORSHIP_DEV_MODE": "1"},
        ) as web,
    ):
        yield Stack(
            web[PORTAL].url,
            {name: s.url for name, s in services.items()},
            provider,
            sink,
            DevClockFile(clock_file),
            log_dir,
        )


@pytest_asyncio.fixture(scope="module")
async def seeded(stack: Stack) -> Stack:
    """The people registered in profiles (as the program office would), and known to matching's directory."""
    async with httpx.AsyncClient(timeout=30, headers=ADMIN) as http:
        for person in PEOPLE:
            body = {
                "participant_id": person.employee_id,
                "employee_id": person.employee_id,
                "name": person.name,
                "email": person.email,
                "profile": cardiologist_profile(
                    biography=f"{person.name}: {'senior cardiologist' if person.role == 'mentor' else 'fellow'}.",
                    career_stage="senior" if person.role == "mentor" else "early_career",
                ),
            }
            if person.role == "mentor":
                body["capacity"] = person.capacity
            answer = await http.post(f"{stack.urls['profiles']}/{person.role}s", json=body)
            assert answer.status_code == 201, answer.text

        async def listed() -> bool:
            page = await http.get(f"{stack.urls['matching']}/directory/mentors", params={"limit": 50})
            mentors = {m["mentor_id"] for m in page.json()["items"]} if page.status_code == 200 else set()
            return mentors >= {p.employee_id for p in PEOPLE if p.role == "mentor"}

        await eventually(listed, timeout=60)
    return stack


@dataclass
class Pages:
    """The screenshots and axe results of every page the test reached, written to ``pages.txt`` at the end."""

    seen: list[tuple[str, str, list[str], float]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    async def check(self, page, name: str) -> None:
        """axe on the page as it is now (zero serious or critical violations) and its screenshot."""
        await page.wait_for_load_state("load")
        if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
            await page.add_script_tag(path=str(AXE))
        violations = await page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ["violations"]});
                return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
            }"""
        )
        number = len(self.seen) + 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{number:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        found = [f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in violations]
        self.seen.append((path.name, page.url, found, time.monotonic() - self.started))
        serious = [f for v, f in zip(violations, found, strict=True) if v["impact"] in SERIOUS]
        assert not serious, f"axe on {name} ({page.url}):\n" + "\n".join(serious)

    def write(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        lines = [
            f"{shot}\t{url}\t{'; '.join(found) or 'axe: no violations'}\t{at:.0f}s"
            for shot, url, found, at in self.seen
        ]
        (SHOTS / "pages.txt").write_text("\n".join(lines) + "\n")


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is installed by `make setup`"
    assert AXE.exists(), "axe-core is installed by `make setup` (npm ci)"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="module")
def pages() -> Iterator[Pages]:
    for old in {*SHOTS.glob("*.png"), *SHOTS.glob("failed-*")}:  # a failed-N.png matches both
        old.unlink(missing_ok=True)
    seen = Pages()
    yield seen
    seen.write()


OPEN: list = []
"""The pages of the people signed in now: on a failure each is saved as ``failed-<n>.png`` (``when_failed``)."""


async def when_failed() -> None:
    for number, page in enumerate(OPEN, start=1):
        if not page.is_closed():
            SHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SHOTS / f"failed-{number}.png"), full_page=True)
            (SHOTS / f"failed-{number}.html").write_text(await page.content())


async def sign_in(browser, portal: str, person: str, *, width: int = 1280):
    """A fresh browser (no cookies) signed in to the portal as ``person`` through the provider's form; its page."""
    context = await browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)  # axe injected
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    OPEN.append(page)
    await through_provider(page, portal, person)
    assert page.url == f"{portal}/", page.url
    return page


async def until_shown(page, url: str, text: str, timeout: float = 30) -> None:
    """Reload ``url`` until it shows ``text`` (what the services do next arrives through the broker)."""

    async def shown() -> bool:
        await page.goto(url)
        return text in await page.locator("main").inner_text()

    await eventually(shown, timeout=timeout, interval=0.3)


async def test_the_sign_in_page(seeded: Stack, browser, pages: Pages) -> None:
    page = await browser.new_page(bypass_csp=True)
    await page.goto(f"{seeded.portal}/relationships")
    assert page.url == f"{seeded.portal}/login"  # not signed in: sent to sign in
    await pages.check(page, "sign-in")
    await page.context.close()


async def submitted(page, button, done: str) -> None:
    """Click a form's button and wait for the page the post leads to (``?done=<done>``; htmx boosts the forms, so the
    address changes by the History API as well as without JavaScript)."""
    await button.click()
    await page.wait_for_url(re.compile(rf"[?&]done={done}\b"))
    await page.wait_for_load_state()


async def test_the_director_reviewed_flow_by_clicking(seeded: Stack, browser, pages: Pages) -> None:
    try:
        await _director_reviewed_flow(seeded, browser, pages)
    except BaseException:
        await when_failed()
        raise


async def _director_reviewed_flow(seeded: Stack, browser, pages: Pages) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=WAIT_MS)

    portal = seeded.portal
    started = datetime.now(UTC)
    day = (started + timedelta(days=8)).date()  # the services' day once the deadline has passed
    meeting_on = (started + timedelta(days=8)).astimezone(ZONE).date() + timedelta(days=2)  # a scheduled meeting

    # --- the mentee finds mentors and ranks three (in one order, then reordered) ----------------------------------
    mentee = await sign_in(browser, portal, MENTEE.username)
    await expect(mentee.locator("main")).to_contain_text("Finding a mentor")
    await pages.check(mentee, "mentee-home")
    await mentee.set_viewport_size({"width": 375, "height": 800})  # a phone
    await pages.check(mentee, "mentee-home-phone")
    await mentee.goto(f"{portal}/dev/mail")
    await expect(mentee.locator("main")).to_contain_text("No mail yet.")  # nothing was sent so far
    await pages.check(mentee, "dev-mail-phone")
    await mentee.set_viewport_size({"width": 1280, "height": 900})
    await mentee.goto(f"{portal}/profile")
    await pages.check(mentee, "mentee-profile")
    await mentee.goto(f"{portal}/mentors")
    await expect(mentee.locator("main")).to_contain_text(FIRST.name)
    await pages.check(mentee, "mentee-directory")
    await mentee.goto(f"{portal}/request")
    await pages.check(mentee, "mentee-request-empty")
    await mentee.goto(f"{portal}/request/new")
    await pages.check(mentee, "mentee-request-compose")
    for mentor in (SECOND, FIRST, THIRD):
        await mentee.locator("#candidate").select_option(mentor.employee_id)
        await mentee.get_by_role("button", name="Add to my choices").click()
        await expect(mentee.locator("#ranked")).to_contain_text(mentor.name)
    await mentee.locator("#ranked li", has_text=FIRST.name).get_by_role("button", name=re.compile("^Move up")).click()
    await expect(mentee.locator("#ranked li").first).to_contain_text(FIRST.name)
    assert [n.split("\n")[0] for n in await mentee.locator("#ranked li strong").all_inner_texts()] == [
        FIRST.name,
        SECOND.name,
        THIRD.name,
    ]
    await mentee.locator("#biography").fill("Cardiology fellow in my second year, starting clinical research.")
    await mentee.locator("#motivation").fill("I want guidance on my first grant and on a research career.")
    await pages.check(mentee, "mentee-request-ranked")
    await submitted(mentee, mentee.get_by_role("button", name="Submit request"), "request")
    await expect(mentee.locator("main")).to_contain_text("Waiting for the program director's review")
    await pages.check(mentee, "mentee-request-submitted")

    # --- the director approves --------------------------------------------------------------------------------
    director = await sign_in(browser, portal, "director")
    await expect(director.locator("main")).to_contain_text("Program director")
    await pages.check(director, "director-home")
    await director.goto(f"{portal}/director")
    await pages.check(director, "director-overview")
    await until_shown(director, f"{portal}/director/reviews", MENTEE.name)
    await pages.check(director, "director-review-queue")
    await submitted(
        director, director.get_by_role("button", name="Approve and forward to the first choice"), "director_approved"
    )
    await expect(director.locator("main")).to_contain_text("No request waits for your review.")

    # --- the first choice declines ------------------------------------------------------------------------------
    first = await sign_in(browser, portal, FIRST.username)
    await expect(first.locator("main")).to_contain_text("1 request waits for your answer.")
    await pages.check(first, "mentor-home")
    await first.goto(f"{portal}/mentor/profile")
    await pages.check(first, "mentor-profile")
    await until_shown(first, f"{portal}/mentor/inbox", "you are choice 1")
    await expect(first.locator("main")).to_contain_text("I want guidance on my first grant")
    await pages.check(first, "mentor-inbox")
    await first.get_by_label("Reason (needed when you decline)").fill("My clinic year is full; Ben suits you better.")
    await submitted(first, first.get_by_role("button", name="Decline"), "declined")

    # --- the second lets the deadline pass: the services' clock moves past it -------------------------------------
    second = await sign_in(browser, portal, SECOND.username)
    await until_shown(second, f"{portal}/mentor/inbox", "you are choice 2")
    await pages.check(second, "mentor-inbox-countdown")
    seeded.clock.set(started + timedelta(days=8))
    await until_shown(mentee, f"{portal}/request", "Choice 2 did not answer in time")
    await pages.check(mentee, "mentee-request-forwarded-to-third")

    # --- the third accepts; the introduction mail appears ------------------------------------------------------
    third = await sign_in(browser, portal, THIRD.username)
    await until_shown(third, f"{portal}/mentor/inbox", "you are choice 3")
    await submitted(third, third.get_by_role("button", name="Accept"), "accepted")
    await until_shown(mentee, f"{portal}/request", f"Matched with {THIRD.name}")
    await pages.check(mentee, "mentee-request-matched")
    await until_shown(mentee, f"{portal}/dev/mail", f"Introduction: meet {THIRD.name}, your mentor")
    await pages.check(mentee, "dev-mail-introduction")
    intro = seeded.sink.mails(subject="Introduction")
    assert {m["envelope_to"][0] for m in intro} == {MENTEE.email, THIRD.email}

    # --- the pair negotiates and signs an agreement -------------------------------------------------------------
    await until_shown(mentee, f"{portal}/relationships", f"Mentored by {THIRD.name}")
    await pages.check(mentee, "pair-list")
    await mentee.get_by_role("link", name=f"Mentored by {THIRD.name}").click()
    await mentee.wait_for_url(re.compile(r"/relationships/[^/?]+$"))
    workspace = mentee.url
    await pages.check(mentee, "pair-workspace-new")
    await mentee.locator("#goals-0-text").fill("Submit a first grant application")
    await mentee.locator("#goals-0-measure").fill("The application is submitted to the foundation")
    await mentee.locator("#goals-0-due_on").fill((day + timedelta(days=120)).isoformat())
    await mentee.locator("#development_plan-0-title").fill("Write the specific aims")
    await mentee.locator("#development_plan-0-due_on").fill((day + timedelta(days=60)).isoformat())
    await submitted(mentee, mentee.get_by_role("button", name="Save this revision"), "pair_proposed")
    await expect(mentee.locator("main")).to_contain_text("Draft revision 1")
    await third.goto(workspace)
    await third.get_by_text("Propose a revision").click()
    await third.locator("#cadence_weeks_max").fill("7")
    await submitted(third, third.get_by_role("button", name="Save this revision"), "pair_proposed")
    await expect(third.locator("main")).to_contain_text("Draft revision 2")
    await pages.check(third, "pair-workspace-draft")
    for party in (third, mentee):
        await party.goto(workspace)
        await party.locator("#confidentiality_accepted").check()
        await party.locator("#no_fault_termination_acknowledged").check()
        await submitted(party, party.get_by_role("button", name="Sign the agreement"), "pair_signed")
    await expect(mentee.locator("main")).to_contain_text("Signed by every party (revision 2)")
    await expect(mentee.locator("main")).to_contain_text("every 6 to 7 weeks")

    # --- a meeting with a private note; the director cannot read it ----------------------------------------------
    note = "Private: we talked about the tension with the lab head."
    await third.goto(workspace)
    await third.get_by_text("Log a meeting").click()
    await third.locator("#held_on").fill(day.isoformat())
    await third.locator("#notes").fill(note)
    await submitted(third, third.get_by_role("button", name="Log the meeting"), "pair_meeting")
    await expect(third.locator("main")).to_contain_text(note)
    await mentee.goto(workspace)
    await expect(mentee.locator("main")).to_contain_text(note)  # the pair reads it
    await director.goto(workspace)
    await expect(director.locator("main")).to_contain_text("Meetings logged: 1")
    assert note not in await director.content()
    await pages.check(director, "director-relationship-status")
    relationship_id = workspace.rsplit("/", 1)[1]
    token = await _token(seeded, "director", "relationships")
    async with httpx.AsyncClient(timeout=10) as http:
        notes = await http.get(
            f"{seeded.urls['relationships']}/relationships/{relationship_id}/notes",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert notes.status_code in (403, 404) and note not in notes.text

    # --- a goal and its progress ---------------------------------------------------------------------------------
    await mentee.goto(workspace)
    await mentee.get_by_text("Set a goal").click()
    await mentee.locator("#text").fill("Present a poster at the spring meeting")
    await mentee.locator("#measure").fill("The poster is accepted")
    await mentee.locator("#due_on").fill((day + timedelta(days=90)).isoformat())
    await submitted(mentee, mentee.get_by_role("button", name="Set the goal"), "pair_goal")
    goal = mentee.locator("li", has_text="Present a poster at the spring meeting")
    await goal.get_by_label("Progress in percent").fill("40")
    await submitted(mentee, goal.get_by_role("button", name="Record progress"), "pair_progress")
    await expect(mentee.locator("li", has_text="Present a poster at the spring meeting")).to_contain_text("40%")
    await pages.check(mentee, "pair-workspace-signed")

    # --- my availability; a meeting proposed, accepted on its page, held; the pulse survey answered --------------
    # Every person's profile names America/Chicago: times are typed and read there (``meeting_on``: two days on).
    await mentee.get_by_role("link", name="My availability").first.click()  # in the navigation and the workspace
    await until_shown(mentee, f"{portal}/availability", f"in your time zone, {ZONE.key}")
    window = mentee.get_by_role("group", name="Window 1")
    await window.get_by_label("Day").select_option(str(meeting_on.weekday()))
    await window.get_by_label("From").fill("17:00")
    await window.get_by_label("To").fill("09:00")  # ends before it starts
    await mentee.get_by_role("button", name="Save my availability").click()
    await expect(mentee.locator("#form-errors")).to_contain_text("Please correct the fields marked below.")
    await expect(mentee.locator("#windows-0-start-error")).not_to_be_empty()
    await expect(window.get_by_label("From")).to_have_attribute("aria-invalid", "true")
    await expect(window.get_by_label("From")).to_have_value("17:00")  # what was typed is kept
    await pages.check(mentee, "availability-refused")
    await window.get_by_label("From").fill("09:00")
    await window.get_by_label("To").fill("17:00")
    await submitted(mentee, mentee.get_by_role("button", name="Save my availability"), "availability")
    await expect(window.get_by_label("From")).to_have_value("09:00")
    await pages.check(mentee, "availability")

    await until_shown(third, workspace, f"Times are in your time zone, {ZONE.key}.")
    await third.get_by_text("Propose a meeting").click()
    proposal = third.locator("#proposal-form")
    await proposal.get_by_label("Time 1").fill(f"{meeting_on.isoformat()}T18:00")  # after the mentee's window
    await proposal.get_by_role("button", name="Propose these times").click()
    await expect(third.locator("#proposal-candidates-0-error")).to_contain_text("is outside")
    await expect(proposal.get_by_label("Time 1")).to_have_value(f"{meeting_on.isoformat()}T18:00")
    await pages.check(third, "pair-proposal-refused")
    await proposal.get_by_label("Time 1").fill(f"{meeting_on.isoformat()}T10:00")
    await proposal.get_by_label("Present a poster at the spring meeting").check()  # on the agenda
    await submitted(third, proposal.get_by_role("button", name="Propose these times"), "meeting_proposed")
    meeting = third.url.split("?")[0]
    assert re.search(r"/relationships/[^/]+/meetings/[^/?]+$", meeting), meeting
    await expect(third.locator("main")).to_contain_text("Proposed: waiting")
    await expect(third.get_by_role("button", name="Accept this time")).to_have_count(0)  # not one's own proposal
    await pages.check(third, "meeting-proposed")
    await mentee.goto(meeting)
    when = f"{meeting_on.isoformat()} 10:00 ({ZONE.key})"
    await expect(mentee.locator("#proposed-times")).to_contain_text(when)
    await expect(mentee.locator("#agenda")).to_contain_text("Present a poster at the spring meeting")
    await submitted(mentee, mentee.get_by_role("button", name="Accept this time"), "meeting_accepted")
    await expect(mentee.locator("main")).to_contain_text("Agreed")
    await expect(mentee.locator("#meeting-facts")).to_contain_text(when)
    await pages.check(mentee, "meeting-accepted")

    seeded.clock.set(datetime.combine(meeting_on, dtime(12), tzinfo=ZONE))  # an hour after its end
    await mentee.goto(meeting)
    await expect(mentee.locator("main")).to_contain_text("Did it happen?")
    await pages.check(mentee, "meeting-did-it-happen")
    await submitted(mentee, mentee.get_by_role("button", name="Yes, it happened"), "meeting_held")
    await expect(mentee.locator("main")).to_contain_text("Thank you: the meeting is logged.")
    await mentee.goto(workspace)
    await expect(mentee.locator("main")).to_contain_text(f"{meeting_on.isoformat()} · 60 minutes")  # logged

    pulses = mentee.locator("#open-surveys").get_by_role("link", name="After the meeting: a short survey")
    await expect(pulses).to_have_count(2)  # one for the meeting logged by hand, one for this one
    await pulses.first.click()
    await mentee.wait_for_url(re.compile(r"/relationships/[^/]+/surveys/[^/?]+$"))
    survey = mentee.url
    useful = mentee.get_by_role("group", name=re.compile("^How useful was this meeting"))
    planned = mentee.get_by_role("group", name=re.compile("^Is the next meeting planned"))
    await planned.get_by_label("yes", exact=True).check()
    await mentee.get_by_role("button", name="Send my answers").click()  # how useful: not answered
    await expect(mentee.locator("#form-errors")).to_contain_text("Please correct the fields marked below.")
    await expect(mentee.locator("#answer-useful-error")).not_to_be_empty()
    await expect(planned.get_by_label("yes", exact=True)).to_be_checked()  # what was chosen is kept
    await pages.check(mentee, "survey-refused")
    await useful.get_by_label("4", exact=True).check()
    await submitted(mentee, mentee.get_by_role("button", name="Send my answers"), "survey_answered")
    await expect(mentee.locator("main")).to_contain_text("Thank you for your answers.")
    await expect(pulses).to_have_count(1)
    assert survey.removeprefix(portal) not in await mentee.locator("main").inner_html()
    await pages.check(mentee, "pair-workspace-survey-answered")

    # --- the mentee closes with no fault and asks for a rematch -------------------------------------------------
    await mentee.locator("#closure-form").evaluate("form => form.closest('details').open = true")
    await mentee.locator("#rematch_requested").check()
    await submitted(mentee, mentee.locator("#closure-form button[type=submit]"), "pair_closed")
    await expect(mentee.locator("main")).to_contain_text("Closing survey")
    await pages.check(mentee, "pair-workspace-closed")

    # --- the director matches them from the unmatched queue, with a suggestion -----------------------------------
    await until_shown(director, f"{portal}/director/unmatched", MENTEE.name)
    await pages.check(director, "director-unmatched")
    await director.get_by_role("link", name="Find a mentor").first.click()
    await director.wait_for_url(re.compile(r"/director/unmatched/[^/?]+$"))
    await expect(director.locator("main")).to_contain_text("score")
    await pages.check(director, "director-unmatched-suggestions")
    choice = director.locator("section", has_text="Suggested mentors").get_by_role("button").first
    chosen = (await choice.inner_text()).removeprefix("Match with ").strip()
    assert chosen != THIRD.name  # the closing mentor is not suggested again
    await submitted(director, choice, "director_matched")
    await until_shown(mentee, f"{portal}/relationships", f"Mentored by {chosen}")

    # --- the director runs, overrides and commits a bulk run for a small cohort ----------------------------------
    await director.goto(f"{portal}/director/bulk")
    await pages.check(director, "director-bulk")
    await director.locator("#mentee_ids").fill("\n".join(p.employee_id for p in COHORT))
    await submitted(director, director.get_by_role("button", name="Propose the run"), "director_bulk_proposed")
    await expect(director.locator("main")).to_contain_text("2 of 2 mentees")
    await pages.check(director, "director-bulk-report")
    rows = director.locator("#revise-form tbody tr")
    pinned_row, forbidden_row = rows.nth(0), rows.nth(1)
    pinned = [t.strip() for t in (await pinned_row.locator("td").all_inner_texts())[:2]]
    forbidden = [t.strip() for t in (await forbidden_row.locator("td").all_inner_texts())[:2]]
    await pinned_row.locator("input[name=pin]").check()
    await forbidden_row.locator("input[name=forbid]").check()
    await submitted(
        director, director.get_by_role("button", name="Propose again with these changes"), "director_bulk_proposed"
    )
    table = director.locator("#revise-form tbody")
    await expect(table).to_contain_text("(pinned)")
    proposed = [
        [c.strip() for c in (await r.locator("td").all_inner_texts())[:2]] for r in await table.locator("tr").all()
    ]
    assert [pinned[0], f"{pinned[1]} (pinned)"] in proposed
    assert forbidden not in proposed and any(p[0] == forbidden[0] for p in proposed)
    await pages.check(director, "director-bulk-revised")
    await submitted(
        director, director.get_by_role("button", name="Commit: match every pair"), "director_bulk_committed"
    )
    await expect(director.locator("main")).to_contain_text("Committed: every pair below is matched.")
    await pages.check(director, "director-bulk-committed")

    # --- the director's programs: the list, a program defined (refused at its field first, then fixed) ----------
    await director.get_by_role("link", name="Programs", exact=True).click()
    await director.wait_for_url(f"{portal}/director/programs")
    await expect(director.locator("#program-default")).to_be_visible()
    await pages.check(director, "director-programs")
    await director.get_by_role("link", name="Define a program").click()
    await director.wait_for_url(f"{portal}/director/programs/new")
    form = director.locator("#program-form")
    await form.get_by_label(re.compile("^Program id")).fill("fellows-2027")
    await form.get_by_label("Name", exact=True).fill("Fellows' research mentoring")
    await form.get_by_label("Starts on").fill(day.isoformat())
    await form.get_by_label(re.compile("^Ends on")).fill((day - timedelta(days=30)).isoformat())  # before its start
    await pages.check(director, "director-program-new")
    await director.get_by_role("button", name="Define the program").click()
    await expect(director.locator("#form-errors")).to_contain_text("Please correct the fields marked below.")
    await expect(director.locator("#ends_on-error")).to_contain_text("ends before the program starts")
    await expect(form.get_by_label(re.compile("^Ends on"))).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_label("Name", exact=True)).to_have_value("Fellows' research mentoring")  # kept
    await pages.check(director, "director-program-refused")
    await form.get_by_label(re.compile("^Ends on")).fill((day + timedelta(days=365)).isoformat())
    await submitted(director, director.get_by_role("button", name="Define the program"), "program_created")
    await expect(director.locator("main")).to_contain_text("The program is defined.")
    await pages.check(director, "director-program-defined")
    await director.get_by_role("link", name="Programs", exact=True).click()
    await expect(director.locator("#program-fellows-2027")).to_contain_text("Fellows' research mentoring")

    # --- the director's remaining pages ---------------------------------------------------------------------------
    for path, name in (("/director/program", "director-program"), ("/director/lagging", "director-lagging")):
        await director.goto(f"{portal}{path}")
        await pages.check(director, name)
    await director.goto(f"{portal}/dev/mail")
    await expect(director.locator("main")).to_contain_text(f"Relationship closed: {MENTEE.name} needs another mentor")
    await pages.check(director, "dev-mail-director")
    for page in (mentee, director, first, second, third):
        await page.context.close()


async def _token(stack: Stack, username: str, service: str) -> str:
    """The person's own access token for ``service`` (through the provider, as the portal gets it)."""
    import asyncio

    return await asyncio.to_thread(stack.provider.person_token, username, service)
