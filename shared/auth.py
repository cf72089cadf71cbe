"""Bearer JWT authentication with roles, as a FastAPI dependency every service uses.

Missing or invalid token → 401; valid token without a required role → 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

ALGORITHM = "HS256"
ISSUER = "mentorship-platform"


class Role(StrEnum):
    admin = "admin"
    mentor = "mentor"
    mentee = "mentee"
    analyst = "analyst"
    hr_integration = "hr-integration"


class Principal(BaseModel):
    subject: str
    roles: frozenset[Role]

    def has_any(self, roles: set[Role]) -> bool:
        return bool(self.roles & roles)

    @property
    def is_director(self) -> bool:
        """The program director (role admin) acts for the whole program, not only for themselves."""
        return Role.admin in self.roles


def mint_token(secret: str, subject: str, roles: list[Role], ttl: timedelta = timedelta(hours=12)) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "roles": sorted(r.value for r in roles),
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(ValueError):
    pass


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["sub", "exp", "iss"]}
        )
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    return Principal(subject=claims["sub"], roles=roles)


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


TOKEN_COOKIE = "mentorship_token"
"""Where a browser keeps its token after signing in to a page (``/login``): HttpOnly, SameSite=Strict."""
SAFE_METHODS = frozenset({"GET", "HEAD"})


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The bearer token; for reads only, a browser's sign-in cookie instead (so no cookie ever authorises a change)."""
    token = credentials.credentials if credentials is not None else None
    if token is None and request.method in SAFE_METHODS:
        token = request.cookies.get(TOKEN_COOKIE)
    if token is None:
        raise _unauthorized("missing bearer token")
    try:
        return verify_token(request.app.state.jwt_secret, token)
    except InvalidToken as exc:
        raise _unauthorized(f"invalid token: {exc}") from exc


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """Dependency: the caller must hold at least one of ``roles``."""
    allowed = set(roles)

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_any(allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"requires one of the roles: {', '.join(sorted(allowed))}",
            )
        return principal

    return check


# The callers each service's routes name, one alias per combination of roles.
Member = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor, Role.mentee))]
"""Anyone in the program: the director, mentors and mentees."""
Director = Annotated[Principal, Depends(require_roles(Role.admin))]
Mentor = Annotated[Principal, Depends(require_roles(Role.mentor))]
Mentee = Annotated[Principal, Depends(require_roles(Role.mentee))]
Party = Annotated[Principal, Depends(require_roles(Role.mentor, Role.mentee))]
"""A mentor or mentee acting for themselves (the director is not a party)."""
DirectorOrMentor = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor))]
DirectorOrMentee = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentee))]
Evaluator = Annotated[Principal, Depends(require_roles(Role.admin, Role.analyst))]
"""The director or an analyst: whole-program figures, replays."""
HrIntegration = Annotated[Principal, Depends(require_roles(Role.admin, Role.hr_integration))]
