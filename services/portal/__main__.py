"""Run the portal (the people's pages): ``python -m services.portal`` (settings from MENTORSHIP_* env)."""

from __future__ import annotations

from services.portal.bootstrap import build_app
from services.portal.settings import PortalSettings
from shared.serve import serve
from shared.startup_checks import Finding


def checks() -> list[Finding]:
    """The portal's own settings are read (and refused with the reason when invalid) before it starts. The mail
    sink's view shows every mail to anyone signed in: a development setting (outside development mode it stops
    the start)."""
    options = PortalSettings()
    if options.dev_mail_url:
        return [Finding("MENTORSHIP_PORTAL_DEV_MAIL_URL", "is set: /dev/mail shows every mail sent (development only)")]
    return []


if __name__ == "__main__":
    serve(build_app, service_name="portal", default_port=8006, checks=checks)
