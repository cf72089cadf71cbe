"""The institution's OpenID Connect provider as the services see it: its discovery document and its signing keys.

Fetched over HTTP without blocking the event loop (``httpx.AsyncClient``) and kept in memory. Keys are parsed by
PyJWT (``PyJWKSet``). A token signed with a key id the cached set does not hold makes the set be fetched again, so a
provider that rotates its keys is followed without a restart; such refetches are rate-limited (at most one per
``min_refresh_seconds``), so tokens with made-up key ids cannot make a service hammer the provider.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt


class IssuerUnavailable(RuntimeError):
    """The provider's discovery document or keys could not be fetched (or are not valid)."""


class Issuer:
    def __init__(
        self,
        url: str,
        *,
        min_refresh_seconds: float = 10.0,
        max_age_seconds: float = 3600.0,
        timeout: float = 5.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.min_refresh_seconds = min_refresh_seconds
        self.max_age_seconds = max_age_seconds
        self.timeout = timeout
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IssuerUnavailable(f"cannot fetch {url}: {exc}") from exc

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (``/.well-known/openid-configuration``), fetched once."""
        if self._metadata is None:
            found = await self._get(f"{self.url}/.well-known/openid-configuration")
            if found.get("issuer", "").rstrip("/") != self.url:
                raise IssuerUnavailable(f"the discovery document names issuer {found.get('issuer')!r}, not {self.url}")
            if not found.get("jwks_uri"):
                raise IssuerUnavailable("the discovery document has no jwks_uri")
            self._metadata = found
        return self._metadata

    async def _refresh(self, *, forced: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if age < (self.min_refresh_seconds if forced else self.max_age_seconds):
                return  # another task fetched meanwhile, or the rate limit holds
            metadata = await self.metadata()
            document = await self._get(metadata["jwks_uri"])
            try:
                keys = jwt.PyJWKSet.from_dict(document)
            except jwt.PyJWTError as exc:
                raise IssuerUnavailable(f"the provider's JWKS holds no usable key: {exc}") from exc
            self._keys, self._fetched_at = keys, time.monotonic()

    async def signing_key(self, kid: str | None) -> jwt.PyJWK:
        """The provider's key ``kid``; the set is fetched again (rate-limited) when it does not hold it."""
        if self._keys is None or time.monotonic() - self._fetched_at >= self.max_age_seconds:
            await self._refresh(forced=False)
        key = self._find(kid)
        if key is None:
            await self._refresh(forced=True)
            key = self._find(kid)
        if key is None:
            raise LookupError(f"the provider publishes no signing key {kid!r}")
        return key

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        keys = [
            k
            for k in (self._keys.keys if self._keys else [])
            if k.public_key_use in (None, "sig") and k.key_type != "oct"  # never a shared secret
        ]
        if kid is None:
            return keys[0] if len(keys) == 1 else None  # without a kid only an unambiguous set will do
        return next((k for k in keys if k.key_id == kid), None)
