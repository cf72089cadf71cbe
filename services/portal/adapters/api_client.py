"""The one client of the other services' HTTP APIs: the ``Api`` port, called as the signed-in person.

Every call carries the person's access token for that service's audience (``adapters/tokens.py``) and the page's
correlation id. Answers become values or ``application.errors``: 422 → ``FieldErrors`` (the fields named),
409 → ``Conflict``, 404/410 → ``NotFound``, 403 → ``Refused``, 401 → one new token and one retry, then
``SignInNeeded``; no answer, a 5xx or 503 overloaded → ``ServiceDown``.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.portal.adapters.tokens import SessionTokens
from services.portal.application.errors import (
    ApiError,
    Conflict,
    FieldErrors,
    NotFound,
    Refused,
    ServiceDown,
    SignInNeeded,
    field_errors,
)
from services.portal.settings import PortalSettings


class ServiceClients:
    """One pooled HTTP client per called service, built once (``bootstrap``) and closed with the app."""

    def __init__(
        self, options: PortalSettings, audience: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.options, self.audience_template = options, audience
        self._http = httpx.AsyncClient(timeout=options.api_timeout_seconds, transport=transport)

    def url(self, service: str, path: str) -> str:
        return self.options.base_url(service) + path

    def audience(self, service: str) -> str:
        return self.audience_template.format(service=service)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self._http.request(method, url, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()


class PersonApi:
    """The ``Api`` port for one page request: the person's tokens, the page's correlation id."""

    def __init__(self, clients: ServiceClients, tokens: SessionTokens, correlation_id: uuid.UUID) -> None:
        self._clients, self._tokens, self._correlation_id = clients, tokens, correlation_id

    async def get(self, service: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._call(service, "GET", path, params=params)

    async def send(
        self, service: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        return await self._call(service, method, path, json=body, headers=headers)

    async def _call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        audience = self._clients.audience(service)
        for attempt in (1, 2):
            token = await self._tokens.for_audience(audience)
            sent = {"Authorization": f"Bearer {token}", "X-Correlation-ID": str(self._correlation_id)}
            try:
                response = await self._clients.request(
                    method, self._clients.url(service, path), params=params, json=json, headers=sent | (headers or {})
                )
            except httpx.HTTPError as exc:
                raise ServiceDown(service, type(exc).__name__) from exc
            if response.status_code == 401 and attempt == 1:
                self._tokens.forget(audience)
                continue
            return _answer(service, response)
        raise SignInNeeded()


def _answer(service: str, response: httpx.Response) -> Any:
    status = response.status_code
    if status >= 500:
        raise ServiceDown(service, f"HTTP {status}")
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None
    if status < 300:
        return data
    detail = data.get("detail") if isinstance(data, dict) else None
    text = detail if isinstance(detail, str) else f"HTTP {status}"
    if status == 401:
        raise SignInNeeded()
    if status == 422:
        raise FieldErrors(service, field_errors(detail))
    if status == 409:
        raise Conflict(service, status, text)
    if status in (404, 410):
        raise NotFound(service, status, text)
    if status == 403:
        raise Refused(service, status, text)
    raise ApiError(service, status, text)
