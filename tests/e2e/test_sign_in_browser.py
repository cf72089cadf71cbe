"""Signing in to the dashboard in headless Chromium through the real development provider (code flow with PKCE):
the session cookie, what it authorises and what not, CSRF refused on the login and the forms, logout ending the
session here and at the provider, a person without the dashboard's roles, and keys rotated at the provider while
the service runs."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from mentorship.devstack.broker import start_tansu
from mentorship.devstack.oidc import OPERATOR, OidcProvider
from mentorship.stack import RunningService, start_services
from shared.web_signin import SESSION_COOKIE
from tests.e2e import cli
from tests.e2e.cli import plain
from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_FLAGS, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def analytics(postgres, oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_dir = tmp_path_factory.mktemp("sign-in")
    with (
        start_tansu(log_dir=log_dir) as broker,
        start_services(
            postgres,
            broker.bootstrap,
            log_dir,
            names=("analytics",),
            database_prefix=f"signin_{uuid.uuid4().hex[:8]}",
            extra_env=oidc_provider.service_env() | {"MENTORSHIP_OIDC_JWKS_REFRESH_SECONDS": "1"},
        ) as services,
    ):
        service: RunningService = services["analytics"]
        yield service.url


async def test_sign_in_through_the_provider_to_the_dashboard_and_out_again(analytics: str, oidc_provider) -> None:
    from playwright.async_api import async_playwright

    url = analytics
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            response = await page.goto(f"{url}/dashboard")
            assert page.url == f"{url}/login"  # not signed in: sent to sign in
            assert response is not None and response.status == 200
            await sign_in(page, url, "analyst")
            assert page.url == f"{url}/dashboard"
            assert "Signed in as demo-analyst" in await page.locator("#account").inner_text()

            cookie = next(c for c in await context.cookies() if c["name"] == SESSION_COOKIE)
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
            assert 8 * 3600 - 120 < cookie["expires"] - time.time() <= 8 * 3600  # Max-Age
            assert "." not in cookie["value"] and len(cookie["value"]) >= 43  # 256 random bits, not a token
            json_page = await page.goto(f"{url}/dashboard.json")
            assert json_page is not None and json_page.status == 200 and "requests" in await json_page.json()

            jar = {SESSION_COOKIE: cookie["value"]}
            async with httpx.AsyncClient(base_url=url, cookies=jar) as http:
                assert (await http.get("/dashboard.json")).status_code == 200
                # the cookie authorises the dashboard's pages only, never an API
                assert (await http.get("/timelines/participants/E20001")).status_code == 401
                assert (await http.post("/replays", json={})).status_code == 401
                # the sign-out form without its CSRF token, or from another origin, changes nothing
                assert (await http.post("/logout", data={"csrf": "guess"})).status_code == 403
                await page.goto(f"{url}/dashboard")
                csrf = await page.locator("#account input[name=csrf]").get_attribute("value")
                foreign = await http.post("/logout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
                assert foreign.status_code == 403
                assert (await http.get("/dashboard.json")).status_code == 200

            await page.click("#account button[type=submit]")  # sign out: here, then at the provider
            await page.wait_for_url(f"{url}/login**")
            assert not [c for c in await context.cookies() if c["name"] == SESSION_COOKIE]
            async with httpx.AsyncClient(base_url=url, cookies=jar) as http:
                assert (await http.get("/dashboard.json")).status_code == 401  # the old cookie ends with the session
                assert (await http.get("/dashboard")).headers["location"] == "/login"
            # signed out at the provider too: signing in again asks for the password
            await page.click("button[type=submit]")
            await page.wait_for_selector("#username")
        finally:
            await browser.close()


async def test_login_csrf_is_refused(analytics: str) -> None:
    async with httpx.AsyncClient(base_url=analytics) as http:
        form = await http.get("/login")
        token = form.text.split('name="csrf" value="')[1].split('"')[0]
        foreign = await http.post("/login", data={"csrf": token}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and "another origin" in foreign.text
        cross_site = await http.post("/login", data={"csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross_site.status_code == 403
        assert (await http.post("/login", data={"csrf": "forged"})).status_code == 403
        http.cookies.clear()
        assert (await http.post("/login", data={"csrf": token})).status_code == 403  # no cookie to match
    async with httpx.AsyncClient(base_url=analytics) as http:  # a browser's own form: on to the provider
        form = await http.get("/login")
        token = form.text.split('name="csrf" value="')[1].split('"')[0]
        started = await http.post("/login", data={"csrf": token}, headers={"Origin": analytics})
        assert started.status_code == 303
        target = httpx.URL(started.headers["location"])
        assert target.params["code_challenge_method"] == "S256" and len(target.params["code_challenge"]) == 43
        # the provider's answer is only taken in the browser that started the sign-in
        stranger = await httpx.AsyncClient(base_url=analytics).get(
            "/auth/callback", params={"state": target.params["state"], "code": "x"}
        )
        assert stranger.status_code == 400


async def test_cookies_are_secure_behind_a_tls_proxy(analytics: str) -> None:
    async with httpx.AsyncClient(base_url=analytics) as http:
        plain = await http.get("/login")
        proxied = await http.get("/login", headers={"X-Forwarded-Proto": "https"})  # from 127.0.0.1: trusted
    assert "secure" not in plain.headers["set-cookie"].lower()  # development mode over plain http
    assert "secure" in proxied.headers["set-cookie"].lower()


async def test_a_mentee_gets_no_dashboard_session(analytics: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await sign_in(page, analytics, "mentee")
            assert "for the admin or analyst roles only" in await page.locator(".error").inner_text()
            assert not [c for c in await context.cookies() if c["name"] == SESSION_COOKIE]
        finally:
            await browser.close()


async def test_keys_rotated_at_the_provider_while_the_service_runs(analytics: str, oidc_provider) -> None:
    from playwright.async_api import async_playwright

    before = oidc_provider.client_credentials(OPERATOR, "analytics")
    async with httpx.AsyncClient(base_url=analytics) as http:
        assert (await http.get("/dashboard.json", headers={"Authorization": f"Bearer {before}"})).status_code == 200
        await asyncio.to_thread(oidc_provider.rotate_keys)
        await asyncio.sleep(1.1)  # the service refetches an unknown key at most once a second (set above)
        after = oidc_provider.client_credentials(OPERATOR, "analytics")
        assert (await http.get("/dashboard.json", headers={"Authorization": f"Bearer {after}"})).status_code == 200
    async with async_playwright() as playwright:  # the ID token is signed with the new EC key now
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await sign_in(page, analytics, "director")
            assert page.url == f"{analytics}/dashboard"
            assert "Signed in as demo-director" in await page.locator("#account").inner_text()
        finally:
            await browser.close()


def test_the_operator_cli_takes_its_tokens_with_client_credentials(analytics: str, oidc_provider) -> None:
    # a development token would be refused: the secret it would be signed with is not the services'
    env = os.environ | oidc_provider.cli_env() | {"MENTORSHIP_JWT_SECRET": "not-the-services-secret-0123456789abcdef"}
    env |= {"MENTORSHIP_CLI_SCOPE": "api"}
    started = cli.mentorship("replay", "--url", analytics, "--no-wait", env=env)
    assert started.returncode == 0, started.stderr
    assert "replay into generation" in started.stdout
    wrong = cli.mentorship("replay", "--url", analytics, "--no-wait", env=env | {"MENTORSHIP_CLI_CLIENT_SECRET": "x"})
    assert wrong.returncode == 1 and "the provider refused client 'mentorship-operator'" in plain(wrong.stderr)
    assert "Traceback" not in wrong.stderr
    production = {k: v for k, v in env.items() if not k.startswith("MENTORSHIP_CLI_") and k != "MENTORSHIP_DEV_MODE"}
    missing = cli.mentorship("replay", "--url", analytics, "--no-wait", env=production)
    assert missing.returncode == 1 and "MENTORSHIP_CLI_CLIENT_ID" in plain(missing.stderr)
