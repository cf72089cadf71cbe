"""Signing in to the portal: the shared OpenID Connect sign-in (``shared.web_signin``) for every role, asking the
provider for one audience per called service (resource indicators) and keeping the tokens sealed server-side
(``adapters/tokens.py``)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from services.portal.adapters.tokens import TokenStore
from services.portal.settings import CALLED
from shared.auth import Role
from shared.issuer import Issuer
from shared.settings import ServiceSettings
from shared.web_session import PostgresSessionStore
from shared.web_signin import WebSignIn, sign_in_router, web_sign_in

PAGE_ROLES = frozenset({Role.admin, Role.analyst, Role.mentor, Role.mentee})
router = sign_in_router()


def portal_sign_in(
    settings: ServiceSettings, pool: Callable[[], asyncpg.Pool], tokens: TokenStore, issuer: Issuer | None = None
) -> WebSignIn:
    return web_sign_in(
        settings,
        PostgresSessionStore(pool),
        PAGE_ROLES,
        home="/",
        title="Mentoring portal",
        issuer=issuer,
        resources=tuple(settings.oidc_audience.format(service=s) for s in CALLED),
        keep_tokens=tokens.keep,
    )
