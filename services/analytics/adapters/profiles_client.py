"""Profiles' demographic aggregate, asked over HTTP as the analytics service (``querying.evaluation``'s
``DemographicsSource``).

Analytics authenticates as a system of the institution, as a key consumer does (``shared.keysource``): the
client-credentials grant at the provider (``MENTORSHIP_SERVICE_CLIENT_ID``/``_SECRET``, a token for profiles'
audience) or, only in development mode, a development token (subject ``service:analytics``, role ``service``).
Any failure (no answer, a timeout, a refusal, an answer of the wrong shape) is ``DemographicsUnavailable``: the
dashboard then says the block could not be computed and shows everything else.
"""

from __future__ import annotations

import httpx

from services.analytics.querying.evaluation import DemographicsUnavailable
from shared.keysource import ServiceTokens
from shared.settings import ServiceSettings

PATH = "/aggregates/demographics"


class ProfilesAggregates:
    """One pooled HTTP client to profiles, built once (``bootstrap``) and closed when the service stops."""

    def __init__(
        self,
        settings: ServiceSettings,
        base_url: str,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.AsyncClient(timeout=timeout_seconds, transport=transport)
        self.tokens = ServiceTokens(settings, self.client)

    async def demographics(self, dimension: str, groups: dict[str, list[str]], min_cell: int) -> dict:
        body = {"dimension": dimension, "groups": groups, "min_cell": min_cell}
        try:
            token = await self.tokens.for_service("profiles")
            response = await self.client.post(
                self.base_url + PATH, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except (httpx.HTTPError, OSError, KeyError, ValueError) as exc:
            raise DemographicsUnavailable(f"{self.base_url}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise DemographicsUnavailable(f"{self.base_url} answered {response.status_code}")
        try:
            answer = response.json()
            if not isinstance(answer.get("categories"), list) or not isinstance(answer.get("min_cell"), int):
                raise ValueError("no categories")
        except ValueError as exc:
            raise DemographicsUnavailable(f"{self.base_url} answered something else than an aggregate") from exc
        return answer

    async def aclose(self) -> None:
        await self.client.aclose()
