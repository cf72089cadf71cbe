"""Roles and development tokens: what a client (the CLI, the tests) needs to mint a token, without the web
framework ``shared.auth`` brings (it re-exports these)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt

DEV_ALGORITHM = "HS256"
DEV_ISSUER = "mentorship-platform"
DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
"""The development tokens' secret (``shared.settings`` re-exports it): here, so a client minting one does not
load the settings' pydantic (a third of ``mentorship hr import``'s start)."""


class Role(StrEnum):
    admin = "admin"
    mentor = "mentor"
    mentee = "mentee"
    analyst = "analyst"
    hr_integration = "hr-integration"
    service = "service"  # a platform service reading another's per-person keys (shared.keysource)


def mint_token(secret: str, subject: str, roles: list[Role], ttl: timedelta = timedelta(hours=12)) -> str:
    """A development token (HS256); services accept it only in development mode."""
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "roles": sorted(r.value for r in roles),
        "iss": DEV_ISSUER,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM)
