"""Run the portal (the people's pages): ``python -m services.portal`` (settings from MENTORSHIP_* env)."""

from __future__ import annotations

from services.portal.bootstrap import build_app
from services.portal.settings import PortalSettings
from shared.serve import serve
from shared.settings import ServiceSettings
from shared.startup_checks import Finding


def checks() -> list[Finding]:
    """The portal's own settings are read (and refused with the reason when invalid) before it starts; without a
    sign-in client nobody could use it. The mail sink's view shows every mail to anyone signed in: a development
    setting (outside development mode it stops the start)."""
    options = PortalSettings()
    settings = ServiceSettings(service_name="portal")
    findings = []
    if not settings.oidc_client_id:
        findings.append(Finding("MENTORSHIP_OIDC_CLIENT_ID", "is not set: nobody can sign in to the portal"))
    if options.dev_mail_url:
        findings.append(
            Finding("MENTORSHIP_PORTAL_DEV_MAIL_URL", "is set: /dev/mail shows every mail sent (development only)")
        )
    return findings


if __name__ == "__main__":
    serve(build_app, service_name="portal", default_port=8006, checks=checks, uses_broker=False)
