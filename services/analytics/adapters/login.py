"""Signing in to the dashboard: the shared OpenID Connect sign-in (``shared.web_signin``), for directors and analysts.

Sessions live in analytics' own database (migration ``003_web_sessions.sql``); the session cookie authorises the
dashboard's pages and ``dashboard.json``/``.csv`` here, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from shared.auth import Role
from shared.issuer import Issuer
from shared.settings import ServiceSettings
from shared.web_session import PostgresSessionStore
from shared.web_signin import WebSignIn, sign_in_router, web_sign_in

PAGE_ROLES = frozenset({Role.admin, Role.analyst})
router = sign_in_router()


def dashboard_sign_in(
    settings: ServiceSettings, pool: Callable[[], asyncpg.Pool], issuer: Issuer | None = None
) -> WebSignIn:
    """``issuer``: the one the service's token verifier uses, so both share its keys."""
    return web_sign_in(
        settings,
        PostgresSessionStore(pool),
        PAGE_ROLES,
        home="/dashboard",
        title="Program-evaluation dashboard",
        issuer=issuer,
    )
