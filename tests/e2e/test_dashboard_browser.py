"""The dashboard page in headless Chromium (Debian's package, driven by Playwright), signed in through the development
OpenID Connect provider: charts present, no network beyond the service."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from mentorship.devstack.broker import start_tansu
from mentorship.devstack.oidc import DEV_PASSWORD, OidcProvider
from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.bus import topic_for
from shared.settings import DEV_JWT_SECRET
from tests.helpers import cardiologist_profile, eventually, send
from tests.integration.analytics.test_dashboard_trends import trend_events

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ANALYST = f"Bearer {mint_token(DEV_JWT_SECRET, 'analyst-1', [Role.analyst])}"
GENDERS = {  # trend_events' mentees
    **{f"m{i}": "woman" for i in range(1, 5)},
    **{f"m{i}": "man" for i in range(5, 8)},
    **{f"s{i}": "woman" if i % 2 else "man" for i in (1, 2, 3, 5)},
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def sign_in(page, url: str, username: str, password: str = DEV_PASSWORD) -> None:
    """From the dashboard's sign-in page through the provider's form, as a person would."""
    await page.goto(f"{url}/login")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#username")  # the provider's page
    await page.fill("#username", username)
    await page.fill("#password", password)
    async with page.expect_navigation(url=lambda u: u.startswith(url)):
        await page.click("button[type=submit]")
    await page.wait_for_load_state()


async def test_dashboard_renders_its_charts_in_chromium(postgres, oidc_provider: OidcProvider, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is installed by `make setup`"
    prefix = f"dash_{uuid.uuid4().hex[:8]}"
    with (
        start_tansu(log_dir=tmp_path / "broker") as broker,
        # profiles answers the demographic breakdowns; on a broker of its own, so that its registrations below do
        # not reach analytics, which projects the recorded history alone
        start_tansu(log_dir=tmp_path / "profiles-broker") as profiles_broker,
        start_services(
            postgres,
            profiles_broker.bootstrap,
            tmp_path / "profiles",
            names=("profiles",),
            database_prefix=prefix,
            extra_env={"MENTORSHIP_PROFILES_AGGREGATE_MIN_CELL": "2"},
        ) as answering,
        start_services(
            postgres,
            broker.bootstrap,
            tmp_path / "analytics",
            names=("analytics",),
            database_prefix=prefix,
            extra_env={
                "MENTORSHIP_ANALYTICS_MIN_CELL": "2",
                "MENTORSHIP_ANALYTICS_PROFILES_URL": answering["profiles"].url,
            }
            | oidc_provider.service_env(),
        ) as services,
    ):
        url = services["analytics"].url
        for mentee, gender in GENDERS.items():  # the history's mentees, with consented answers
            body = {"name": mentee, "email": f"{mentee}@example.edu", "profile": cardiologist_profile()}
            body["demographics"] = {"consented": True, "gender": gender}
            token = mint_token(DEV_JWT_SECRET, mentee, [Role.mentee])
            created = httpx.post(
                f"{answering['profiles'].url}/mentees", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert created.status_code == 201, created.text
        await send(broker.bootstrap, ((topic_for(owner), env) for owner, env in trend_events()))

        async def projected() -> bool:
            response = httpx.get(f"{url}/dashboard.json", headers={"Authorization": ANALYST})
            if response.status_code != 200:
                return False
            figures = response.json()
            return (
                figures["participants"]["mentees"] == 11
                and len(figures["retention"]["cohorts"]) == 2
                and figures["as_of"] == "2026-06-02"
            )

        await eventually(projected, timeout=30)
        requested: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = await browser.new_page()
                await page.goto(f"{url}/dashboard")
                assert page.url == f"{url}/login"  # not signed in yet
                await sign_in(page, url, "analyst")
                assert page.url == f"{url}/dashboard"
                page.on("request", lambda request: requested.append(request.url))
                await page.reload()  # from here on: the dashboard alone, no other host
                assert await page.locator("figure.chart svg").count() == 17  # 14, and one per demographic dimension
                assert await page.locator("#chart-departments rect.bar").count() == 3
                # months 2025-12..2026-06, two lines; lagging: three lines over 2026-01..06
                assert await page.locator("#chart-participants-over-time circle.point").count() == 14
                assert await page.locator("#chart-lagging-over-time circle.point").count() == 18
                assert await page.locator("#chart-cadence-over-time polyline.series").count() == 1
                assert await page.locator("#chart-cadence rect.bar").count() == 4
                assert await page.locator("#chart-mentor-load rect.bar").count() == 5
                # 2024 and 2025, participants and non-participants; 2025's rates are withheld (under 2 people)
                assert await page.locator("#chart-retention rect.bar").count() == 4
                assert "<2" in (await page.locator("#chart-retention").text_content() or "")
                assert "50 %" in await page.locator(".tiles").first.inner_text()  # match rate, as a percentage
                # issue 18's charts: promotion by hire year (2 cohorts x 2 groups), mentors by time to answer (5
                # bands), fast starts in the one program (2 milestones), priority groups (only "none", 2 figures)
                for chart, bars in (
                    ("promotion", 4),
                    ("responsiveness", 5),
                    ("fast-starts", 2),
                    ("priority-groups", 2),
                ):
                    svg = page.locator(f"#chart-{chart} svg")
                    assert await svg.get_attribute("aria-labelledby") == f"chart-{chart}-title"
                    assert await page.locator(f"#chart-{chart} rect.bar title").count() == bars  # tooltips
                assert await page.locator("#chart-promotion svg desc").count() == 1
                # by consented demographics (counted by profiles): every mentee answered gender, so it has bars
                for dimension in ("gender", "race-ethnicity", "first-generation"):
                    svg = page.locator(f"#chart-demographics-{dimension} svg")
                    assert await svg.get_attribute("aria-labelledby") == f"chart-demographics-{dimension}-title"
                gender = page.locator("#chart-demographics-gender")
                assert await gender.locator("rect.bar title").count() >= 2  # tooltips
                assert "woman" in (await gender.text_content() or "")
                ARTIFACTS.mkdir(exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            finally:
                await browser.close()
        assert requested and all(r.startswith(url) for r in requested), requested
        assert (ARTIFACTS / "dashboard.png").stat().st_size > 5_000
