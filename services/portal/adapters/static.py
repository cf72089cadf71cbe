"""The portal's own stylesheet and htmx, served by the portal itself (no CDN).

htmx is the npm package ``htmx.org`` that ``make setup`` installs (``npm ci``, package.json); its file is served
from where npm put it. Without it the pages still work: every form and link works without JavaScript.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, status
from fastapi.responses import FileResponse

from services.portal.settings import PortalSettings

STATIC = Path(__file__).parent / "static"
CACHE = {"Cache-Control": "public, max-age=3600"}


def install(app: FastAPI, options: PortalSettings) -> None:
    @app.get("/static/portal.css", include_in_schema=False)
    async def stylesheet() -> FileResponse:
        return FileResponse(STATIC / "portal.css", media_type="text/css", headers=CACHE)

    @app.get("/static/htmx.min.js", include_in_schema=False)
    async def htmx() -> FileResponse:
        if not options.htmx_file.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="htmx is not installed (make setup)")
        return FileResponse(options.htmx_file, media_type="text/javascript", headers=CACHE)
