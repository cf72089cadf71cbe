"""Run the portal (the people's pages): ``python -m services.portal`` (settings from MENTORSHIP_* env)."""

from __future__ import annotations

from services.portal.bootstrap import build_app
from services.portal.settings import PortalSettings
from shared.serve import serve
from shared.settings import ServiceSettings
from shared.startup_checks import Finding


def checks() -> list[Finding]:
    """The portal's own settings are read (and refused with the reason when invalid) before it starts; without a
    sign-in client nobody could use it."""
    PortalSettings()
    settings = ServiceSettings(service_name="portal")
    if not settings.oidc_client_id:
        return [Finding("MENTORSHIP_OIDC_CLIENT_ID", "is not set: nobody can sign in to the portal")]
    return []


if __name__ == "__main__":
    serve(build_app, service_name="portal", default_port=8006, checks=checks, uses_broker=False)
