"""Signing in to the dashboard page from a browser, which cannot send a bearer header by itself.

The form takes a token (``mentorship token --role analyst …``), checks it and keeps it in an
HttpOnly, SameSite=Strict cookie that authorises reads only (``shared.auth.current_principal``).
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from shared.auth import TOKEN_COOKIE, InvalidToken, Role, verify_token

router = APIRouter(tags=["dashboard"])
PAGE_ROLES = frozenset({Role.admin, Role.analyst})


def _form(message: str = "") -> str:
    note = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · dashboard</title>
<style>body{{font-family:system-ui,sans-serif;margin:3rem auto;max-width:36rem}}
textarea{{width:100%;height:7rem}}.error{{color:#a11}}</style></head><body>
<h1>Program-evaluation dashboard</h1>{note}
<form method="post" action="/login"><label for="token">Access token (admin or analyst)</label>
<textarea id="token" name="token" required></textarea><p><button type="submit">Sign in</button></p></form>
</body></html>"""


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page() -> HTMLResponse:
    return HTMLResponse(_form())


@router.post("/login", response_model=None, include_in_schema=False)
async def login(request: Request) -> HTMLResponse | RedirectResponse:
    token = (parse_qs((await request.body()).decode("utf-8", "replace")).get("token") or [""])[0].strip()
    try:
        principal = verify_token(request.app.state.jwt_secret, token)
    except InvalidToken as exc:
        return HTMLResponse(_form(f"That token is not valid: {exc}"), status.HTTP_401_UNAUTHORIZED)
    if not principal.has_any(PAGE_ROLES):
        return HTMLResponse(_form("The dashboard needs an admin or analyst token."), status.HTTP_403_FORBIDDEN)
    response = RedirectResponse("/dashboard", status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/", secure=request.url.scheme == "https"
    )
    return response


@router.post("/logout", include_in_schema=False)
async def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response
