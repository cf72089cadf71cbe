"""The home page: one section per role the person holds, each with what needs them now."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.portal.adapters.i18n import N_
from services.portal.adapters.web import ViewerDep, render, sections
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [((Role.admin, Role.analyst, Role.mentor, Role.mentee), "/", N_("Home"))]


@router.get("/", response_class=HTMLResponse)
async def home(viewer: ViewerDep) -> HTMLResponse:
    calls = {}
    if viewer.has(Role.mentee):
        calls["requests"] = viewer.api.get("matching", "/requests", {"limit": 20})
    if viewer.has(Role.mentor) and not viewer.has(Role.admin):
        calls["inbox"] = viewer.api.get("matching", "/requests", {"status": "forwarded", "limit": 50})
    found = await sections(**calls)
    requests = found.get("requests")
    inbox = found.get("inbox")
    open_request = None
    if requests is not None and requests.value:
        open_request = next(
            (r for r in reversed(requests.value["items"]) if r["status"] in ("submitted", "forwarded")), None
        )
    waiting = []
    if inbox is not None and inbox.value:
        waiting = [r for r in inbox.value["items"] if r["mentor_id"] == viewer.subject and r["status"] == "forwarded"]
    return render(
        viewer,
        "home/home.html",
        requests=requests,
        open_request=open_request,
        inbox=inbox,
        waiting=waiting,
    )
