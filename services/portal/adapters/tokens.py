"""The person's tokens, kept server-side for their session and sealed so that the database alone opens no API.

At sign-in the provider answers with an access token (for the first service) and a refresh token
(``shared.web_signin.WebSignIn.keep_tokens`` hands them here). They are sealed with AES-GCM under a key derived from
the session id, which only the browser's cookie holds (the sessions table keeps its SHA-256, a different value), and
stored beside the session; the row goes with the session. ``SessionTokens.for_audience`` gives the access token for a
service, from the sealed set while it lives, otherwise from the provider with the refresh grant and the service's
resource indicator (RFC 8707).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.portal.application.errors import ServiceDown, SignInNeeded
from shared.issuer import IssuerUnavailable
from shared.oidc_client import OidcClient, SignInFailed, TokenSet

EARLY_SECONDS = 30
"""An access token this close to its end is not used any more: a new one is fetched."""
_KEY_LABEL = b"mentorship-portal session tokens v1:"


@dataclass
class HeldTokens:
    refresh_token: str | None
    access: dict[str, tuple[str, float]] = field(default_factory=dict)  # audience → (token, ends at, epoch seconds)

    def take(self, answer: TokenSet, now: float) -> None:
        if answer.refresh_token:
            self.refresh_token = answer.refresh_token
        if answer.access_token and answer.resource:
            self.access[answer.resource] = (answer.access_token, now + (answer.expires_in or 60))

    def live(self, audience: str, now: float) -> str | None:
        token, ends = self.access.get(audience, ("", 0.0))
        return token if token and ends - EARLY_SECONDS > now else None


def _key(session_id: str) -> bytes:
    return hashlib.sha256(_KEY_LABEL + session_id.encode("utf-8")).digest()


def _id_hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8")).digest()  # as shared.web_session keys the session


def seal(session_id: str, held: HeldTokens) -> bytes:
    nonce = os.urandom(12)
    plain = json.dumps({"refresh_token": held.refresh_token, "access": held.access}).encode("utf-8")
    return nonce + AESGCM(_key(session_id)).encrypt(nonce, plain, _id_hash(session_id))


def unseal(session_id: str, sealed: bytes) -> HeldTokens | None:
    try:
        plain = AESGCM(_key(session_id)).decrypt(sealed[:12], sealed[12:], _id_hash(session_id))
    except (InvalidTag, ValueError):
        return None
    data = json.loads(plain)
    return HeldTokens(data.get("refresh_token"), {k: (v[0], float(v[1])) for k, v in data.get("access", {}).items()})


class TokenStore:
    """The sealed tokens in the portal's own database (``session_tokens``, migration 001)."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], clock: Callable[[], float] = time.time) -> None:
        self._pool, self._clock = pool, clock

    async def keep(self, session_id: str, answer: TokenSet) -> None:
        held = HeldTokens(None)
        held.take(answer, self._clock())
        await self.save(session_id, held)

    async def load(self, session_id: str) -> HeldTokens | None:
        sealed = await self._pool().fetchval(
            "SELECT sealed FROM session_tokens WHERE id_hash = $1", _id_hash(session_id)
        )
        return None if sealed is None else unseal(session_id, sealed)

    async def save(self, session_id: str, held: HeldTokens) -> None:
        await self._pool().execute(
            "INSERT INTO session_tokens (id_hash, sealed) SELECT $1, $2 WHERE EXISTS"
            " (SELECT 1 FROM web_sessions WHERE id_hash = $1)"
            " ON CONFLICT (id_hash) DO UPDATE SET sealed = excluded.sealed",
            _id_hash(session_id),
            seal(session_id, held),
        )


class SessionTokens:
    """The ``Tokens`` port for one session (one page request)."""

    def __init__(
        self, store: TokenStore, client: OidcClient | None, session_id: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._store, self._client, self._session_id, self._clock = store, client, session_id, clock
        self._held: HeldTokens | None = None

    async def for_audience(self, audience: str) -> str:
        now = self._clock()
        if self._held is None:
            self._held = await self._store.load(self._session_id)
        if self._held is None:
            raise SignInNeeded()
        if token := self._held.live(audience, now):
            return token
        if not self._held.refresh_token or self._client is None:
            raise SignInNeeded()
        try:
            answer = await self._client.refresh(self._held.refresh_token, audience)
        except SignInFailed as exc:
            raise SignInNeeded() from exc
        except IssuerUnavailable as exc:
            raise ServiceDown("sign-in", str(exc)) from exc
        self._held.take(answer, now)
        await self._store.save(self._session_id, self._held)
        return answer.access_token or ""

    def forget(self, audience: str) -> None:
        """The service refused the token (ended early, keys rotated): the next call fetches a new one."""
        if self._held is not None:
            self._held.access.pop(audience, None)
