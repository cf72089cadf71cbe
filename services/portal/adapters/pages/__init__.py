"""The portal's pages, one module per area, registered here in one place.

An area module has ``router`` (its routes) and ``NAV``: the navigation entries it adds, each
``(roles that see it, path, label)`` with the label marked for the catalog (``N_``). To add an area (the pair's
workspace, the director's pages, the development mail view), write ``pages/<area>.py`` with templates under
``templates/<area>/`` and add the module to ``AREAS``.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.portal.adapters.pages import (
    dev_mail,
    director,
    home,
    meetings,
    mentee,
    mentor,
    pair,
    profile,
    programs,
    surveys,
)
from services.portal.adapters.web import Portal

AREAS = (home, profile, mentee, mentor, meetings, surveys, pair, programs, director)


def install(app: FastAPI, portal: Portal) -> None:
    for area in AREAS:
        app.include_router(area.router)
        portal.nav.extend(area.NAV)
    if portal.dev_mail:  # development mode with a mail sink only
        app.include_router(dev_mail.router)
        portal.nav.extend(dev_mail.NAV)
