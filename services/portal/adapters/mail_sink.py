"""The client of the development mail sink (``mentorship dev up`` runs it): the mails the platform sent, as JSON.

Development only: the sink has no authentication and shows every mail, so the portal calls it only in development
mode with ``MENTORSHIP_PORTAL_DEV_MAIL_URL`` set (``bootstrap``), and never reads its store itself.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.portal.adapters.api_client import ServiceClients
from services.portal.application.errors import ServiceDown

SINK = "mail sink"


class MailSinkClient:
    def __init__(self, clients: ServiceClients, base_url: str) -> None:
        self._clients, self.base_url = clients, base_url.rstrip("/")

    async def newest(self, *, to: str | None = None, limit: int = 50) -> dict[str, Any]:
        """``{"items": [...], "total": n}``, newest first; ``to``: only mails whose recipient holds it."""
        params: dict[str, Any] = {"limit": limit} | ({"to": to} if to else {})
        try:
            response = await self._clients.request("GET", f"{self.base_url}/mails", params=params)
        except httpx.HTTPError as exc:
            raise ServiceDown(SINK, type(exc).__name__) from exc
        if response.status_code != 200:
            raise ServiceDown(SINK, f"HTTP {response.status_code}")
        return response.json()
