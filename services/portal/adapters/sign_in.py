"""Signing in to the portal: the shared OpenID Connect sign-in (``shared.web_signin``) for every role, asking the
provider for one audience per called service (resource indicators) and keeping the tokens sealed server-side
(``adapters/tokens.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg

from services.portal.adapters.tokens import TokenStore
from services.portal.settings import CALLED
from shared.auth import ClaimMapping, Role
from shared.issuer import Issuer
from shared.oidc_client import OidcClient
from shared.settings import ServiceSettings
from shared.web_session import PostgresSessionStore
from shared.web_signin import WebSignIn, sign_in_router

PAGE_ROLES = frozenset({Role.admin, Role.analyst, Role.mentor, Role.mentee})
router = sign_in_router()


def portal_sign_in(
    settings: ServiceSettings, pool: Callable[[], asyncpg.Pool], tokens: TokenStore, issuer: Issuer | None = None
) -> WebSignIn:
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
            resources=tuple(settings.oidc_audience.format(service=s) for s in CALLED),
        )
    return WebSignIn(
        client,
        PostgresSessionStore(pool),
        PAGE_ROLES,
        home="/",
        title="Mentoring portal",
        session_lifetime=timedelta(seconds=settings.web_session_seconds),
        dev_mode=settings.dev_mode,
        public_url=settings.public_url,
        keep_tokens=tokens.keep,
    )
