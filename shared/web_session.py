"""Server-side sessions of people signed in to web pages, and the sign-ins under way.

The browser holds only a random session id (256 bits); the store keeps its SHA-256, who signed in (participant and
roles), the session's CSRF token and when it ends — never a token of the provider. Ending a session deletes its row,
so the old cookie means nothing afterwards. A sign-in under way (``PendingLogin``: the OpenID Connect ``state``,
``nonce`` and PKCE verifier) is kept until the provider sends the browser back, and can be taken once.

``PostgresSessionStore`` keeps both in the service's own database (tables ``web_sessions`` and ``web_logins``, from the
service's migrations: analytics' ``003_web_sessions.sql``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from shared.auth import Principal, Role


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class PendingLogin:
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


class SessionStore(Protocol):
    async def start(self, principal: Principal, lifetime: timedelta) -> tuple[str, WebSession]:
        """A new session; returns its id (for the cookie only) and the session."""
        ...

    async def find(self, session_id: str) -> WebSession | None:
        """The live session with this id, or None (unknown, ended or expired)."""
        ...

    async def end(self, session_id: str) -> None: ...

    async def remember_login(self, login: PendingLogin, lifetime: timedelta) -> None: ...

    async def take_login(self, state: str) -> PendingLogin | None:
        """The sign-in under way with this ``state``, removed (a state is used once); None if unknown or expired."""
        ...


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class PostgresSessionStore:
    def __init__(self, pool: Callable[[], asyncpg.Pool]) -> None:
        self._pool = pool

    async def start(self, principal: Principal, lifetime: timedelta) -> tuple[str, WebSession]:
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with self._pool().acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM web_sessions WHERE expires_at < now()")
            expires_at = await conn.fetchval(
                "INSERT INTO web_sessions (id_hash, subject, roles, csrf_token, expires_at)"
                " VALUES ($1, $2, $3, $4, now() + $5) RETURNING expires_at",
                _digest(session_id),
                principal.subject,
                sorted(principal.roles),
                csrf,
                lifetime,
            )
        return session_id, WebSession(principal, csrf, expires_at)

    async def find(self, session_id: str) -> WebSession | None:
        row = await self._pool().fetchrow(
            "SELECT subject, roles, csrf_token, expires_at FROM web_sessions WHERE id_hash = $1 AND expires_at > now()",
            _digest(session_id),
        )
        if row is None:
            return None
        roles = frozenset(Role(r) for r in row["roles"] if r in Role._value2member_map_)
        return WebSession(Principal(subject=row["subject"], roles=roles), row["csrf_token"], row["expires_at"])

    async def end(self, session_id: str) -> None:
        await self._pool().execute("DELETE FROM web_sessions WHERE id_hash = $1", _digest(session_id))

    async def remember_login(self, login: PendingLogin, lifetime: timedelta) -> None:
        async with self._pool().acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM web_logins WHERE expires_at < now()")
            await conn.execute(
                "INSERT INTO web_logins (state_hash, nonce, code_verifier, redirect_uri, expires_at)"
                " VALUES ($1, $2, $3, $4, now() + $5)",
                _digest(login.state),
                login.nonce,
                login.code_verifier,
                login.redirect_uri,
                lifetime,
            )

    async def take_login(self, state: str) -> PendingLogin | None:
        row = await self._pool().fetchrow(
            "DELETE FROM web_logins WHERE state_hash = $1 RETURNING nonce, code_verifier, redirect_uri,"
            " expires_at > now() AS live",
            _digest(state),
        )
        if row is None or not row["live"]:
            return None
        return PendingLogin(state, row["nonce"], row["code_verifier"], row["redirect_uri"])
