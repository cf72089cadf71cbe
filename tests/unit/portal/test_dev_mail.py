"""The development mail view is a development setting: outside development mode the portal refuses to start with it,
and without development mode or a sink the path does not exist."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.routing import NoMatchFound

from services.portal.__main__ import checks
from services.portal.adapters import pages
from services.portal.adapters.web import Portal
from services.portal.settings import PortalSettings


def test_the_mail_view_is_a_development_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORSHIP_OIDC_CLIENT_ID", "mentorship-portal")
    monkeypatch.setenv("MENTORSHIP_PG_DSN", "postgresql://127.0.0.1/portal")
    assert checks() == []
    monkeypatch.setenv("MENTORSHIP_PORTAL_DEV_MAIL_URL", "http://127.0.0.1:8025")
    [finding] = checks()  # outside development mode a finding stops the start (shared.startup_checks)
    assert finding.setting == "MENTORSHIP_PORTAL_DEV_MAIL_URL" and "development only" in finding.problem
    monkeypatch.setenv("MENTORSHIP_PORTAL_DEV_MAIL_URL", "file:///var/mail")
    with pytest.raises(ValueError, match="dev_mail_url"):
        PortalSettings()


@pytest.mark.parametrize("sink", [None, "http://127.0.0.1:8025"])
def test_dev_mail_exists_only_with_a_sink(sink: str | None) -> None:
    app = FastAPI()
    portal = Portal(PortalSettings(), None, None, None, dev_mail=sink)  # type: ignore[arg-type]
    pages.install(app, portal)
    try:
        found = app.url_path_for("mails") == "/dev/mail"
    except NoMatchFound:
        found = False
    assert found is (sink is not None)
    assert any(path == "/dev/mail" for _, path, _ in portal.nav) is (sink is not None)
