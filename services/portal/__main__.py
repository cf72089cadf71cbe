"""Run the portal (the people's pages): ``python -m services.portal`` (settings from MENTORSHIP_* env)."""

from __future__ import annotations

from services.portal.bootstrap import build_app
from services.portal.settings import PortalSettings
from shared.serve import serve
from shared.startup_checks import Finding


def checks() -> list[Finding]:
    """The portal's own settings are read (and refused with the reason when invalid) before it starts."""
    PortalSettings()
    return []


if __name__ == "__main__":
    serve(build_app, service_name="portal", default_port=8006, checks=checks)
