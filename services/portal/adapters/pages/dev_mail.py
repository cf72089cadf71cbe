"""The development mail view (``/dev/mail``): the mails the platform sent (introductions, forwarded requests,
nudges), read from the development mail sink, so a new user sees the whole loop in the browser.

Installed only in development mode with a sink configured (``pages.install``); elsewhere the path does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.portal.adapters.i18n import N_
from services.portal.adapters.mail_sink import MailSinkClient
from services.portal.adapters.web import ViewerDep, render, section
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [((Role.admin, Role.analyst, Role.mentor, Role.mentee), "/dev/mail", N_("Mail (development)"))]


@router.get("/dev/mail", response_class=HTMLResponse)
async def mails(viewer: ViewerDep, to: Annotated[str, Query(max_length=254)] = "") -> HTMLResponse:
    sink = viewer.portal.dev_mail
    assert sink is not None  # the route is installed only with a sink
    found = await section(MailSinkClient(viewer.portal.clients, sink).newest(to=to.strip() or None))
    return render(viewer, "dev_mail/mails.html", mails=found, to=to)
