"""Signing in to the dashboard: the shared OpenID Connect sign-in (``shared.web_signin``), for directors and analysts.

Sessions live in analytics' own database (migration ``003_web_sessions.sql``); the session cookie authorises the
dashboard's pages and ``dashboard.json``/``.csv`` here, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg

from shared.auth import ClaimMapping, Role
from shared.issuer import Issuer
from shared.oidc_client import OidcClient
from shared.settings import ServiceSettings
from shared.web_session import PostgresSessionStore
from shared.web_signin import WebSignIn, sign_in_router

PAGE_ROLES = frozenset({Role.admin, Role.analyst})
router = sign_in_router()


def dashboard_sign_in(
    settings: ServiceSettings, pool: Callable[[], asyncpg.Pool], issuer: Issuer | None = None
) -> WebSignIn:
    """``issuer``: the one the service's token verifier uses, so both share its keys."""
    client = None
    if settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret:
        client = OidcClient(
            issuer or Issuer(settings.oidc_issuer, min_refresh_seconds=settings.oidc_jwks_refresh_seconds),
            settings.oidc_client_id,
            settings.oidc_client_secret,
            mapping=ClaimMapping(settings.oidc_subject_claim, settings.oidc_roles_claim, settings.oidc_role_map),
            scope=settings.oidc_scopes,
            leeway=timedelta(seconds=settings.token_leeway_seconds),
            max_lifetime=timedelta(seconds=settings.token_max_lifetime_seconds),
        )
    return WebSignIn(
        client,
        PostgresSessionStore(pool),
        PAGE_ROLES,
        home="/dashboard",
        title="Program-evaluation dashboard",
        session_lifetime=timedelta(seconds=settings.web_session_seconds),
        dev_mode=settings.dev_mode,
        public_url=settings.public_url,
    )
