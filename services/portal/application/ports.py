"""What the portal's pages need from outside: the other services' APIs, called as the signed-in person."""

from __future__ import annotations

from typing import Any, Protocol


class Api(Protocol):
    """Another service's HTTP API, called with the person's access token for it.

    Raises ``application.errors``: ``ServiceDown``, ``SignInNeeded``, ``FieldErrors``, ``Conflict``, ``NotFound``,
    ``Refused`` or ``ApiError``; otherwise returns the decoded JSON (``None`` for an empty answer)."""

    async def get(self, service: str, path: str, params: dict[str, Any] | None = None) -> Any: ...

    async def send(
        self, service: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any: ...


class Tokens(Protocol):
    """The person's access token for a service's audience (cached; refreshed at the provider when it ends)."""

    async def for_audience(self, audience: str) -> str: ...
