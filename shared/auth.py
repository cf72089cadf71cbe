"""Bearer tokens with roles, as a FastAPI dependency every service uses.

Two kinds of token are accepted, checked by one ``TokenVerifier`` per service (``authenticate`` is the one entry
point, for routes and middleware alike):

- **Access tokens of the institution's OpenID Connect provider** (``MENTORSHIP_OIDC_ISSUER``): signed with one of
  the keys the provider publishes (RS256/ES256/…, never a shared secret), issued by it, for this service's audience
  (``MENTORSHIP_OIDC_AUDIENCE``, one per service), within their ``exp``/``nbf`` (small leeway) and no longer-lived
  than ``MENTORSHIP_TOKEN_MAX_LIFETIME_SECONDS``. The participant comes from a configurable claim (an employee id)
  and the roles from another (the caller's groups), through a configurable map.
- **Development tokens** (HS256 with ``MENTORSHIP_JWT_SECRET``, minted by ``mentorship token`` and the tests), only
  when the service runs in development mode (``MENTORSHIP_DEV_MODE=1``).

Missing or invalid token → 401; valid token without a required role → 403; provider unreachable → 503.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from shared.issuer import Issuer, IssuerUnavailable
from shared.roles import DEV_ALGORITHM, DEV_ISSUER, Role
from shared.roles import mint_token as mint_token  # re-exported: services and tests mint development tokens here
from shared.standing import refusal, standing_of

if TYPE_CHECKING:
    from shared.settings import ServiceSettings

PROVIDER_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
"""What the provider may sign with: asymmetric algorithms only (no ``none``, no shared secret)."""


class Principal(BaseModel):
    subject: str
    roles: frozenset[Role]

    def has_any(self, roles: set[Role]) -> bool:
        return bool(self.roles & roles)

    @property
    def is_director(self) -> bool:
        """The program director (role admin) acts for the whole program, not only for themselves."""
        return Role.admin in self.roles


class InvalidToken(ValueError):
    pass


class ClaimMapping:
    """How a provider's claims become a ``Principal``: which claim names the participant, which the roles."""

    def __init__(
        self, subject_claim: str = "sub", roles_claim: str = "groups", role_map: Mapping[str, str] | None = None
    ) -> None:
        self.subject_claim, self.roles_claim = subject_claim, roles_claim
        try:
            self.role_map = {group: Role(role) for group, role in (role_map or {}).items()}
        except ValueError as exc:
            raise ValueError(f"MENTORSHIP_OIDC_ROLE_MAP: {exc} (roles: {', '.join(Role)})") from None

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        subject = claims.get(self.subject_claim)
        if subject is None and claims.get("client_id") is not None and claims.get("client_id") == claims.get("sub"):
            subject = claims["sub"]  # a system's token (client credentials): the client is the subject
        if not isinstance(subject, str) or not subject.strip():
            raise InvalidToken(f"the token has no {self.subject_claim} claim naming the caller")
        values = claims.get(self.roles_claim) or []
        if isinstance(values, str):
            values = values.replace(",", " ").split()
        if not isinstance(values, list):
            raise InvalidToken(f"the {self.roles_claim} claim is not a list")
        if self.role_map:
            roles = {self.role_map[v] for v in values if isinstance(v, str) and v in self.role_map}
        else:
            roles = {Role(v) for v in values if isinstance(v, str) and v in Role._value2member_map_}
        return Principal(subject=subject, roles=frozenset(roles))


VERIFIED_CACHE_SIZE = 4096  # accepted tokens a process remembers (see TokenVerifier.verify)


class TokenVerifier:
    """Checks a bearer token and says who holds it (see the module docstring for what is checked)."""

    def __init__(
        self,
        *,
        issuer: Issuer | None = None,
        audience: str | None = None,
        mapping: ClaimMapping | None = None,
        max_lifetime: timedelta = timedelta(hours=12),
        leeway: timedelta = timedelta(seconds=30),
        dev_secret: str | None = None,
    ) -> None:
        if issuer is not None and not audience:
            raise ValueError("an audience is needed to accept the provider's tokens")
        self.issuer, self.audience = issuer, audience
        self.mapping = mapping or ClaimMapping()
        self.max_lifetime, self.leeway = max_lifetime, leeway
        self.dev_secret = dev_secret
        self._verified: dict[str, tuple[Principal, float]] = {}  # token → its principal and ``exp``

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> TokenVerifier:
        issuer = audience = None
        if settings.oidc_issuer:
            issuer = Issuer(settings.oidc_issuer, min_refresh_seconds=settings.oidc_jwks_refresh_seconds)
            audience = settings.oidc_audience.replace("{service}", settings.service_name)
        return cls(
            issuer=issuer,
            audience=audience,
            mapping=ClaimMapping(settings.oidc_subject_claim, settings.oidc_roles_claim, settings.oidc_role_map),
            max_lifetime=timedelta(seconds=settings.token_max_lifetime_seconds),
            leeway=timedelta(seconds=settings.token_leeway_seconds),
            dev_secret=settings.jwt_secret if settings.dev_mode else None,
        )

    async def verify(self, token: str) -> Principal:
        """The token's principal; ``InvalidToken`` if it is not accepted, ``IssuerUnavailable`` if it cannot be told.

        A token once accepted is remembered until its ``exp`` (at most ``VERIFIED_CACHE_SIZE`` of them, the oldest
        forgotten first): a client sends the same token with every request, and checking its signature and claims
        again each time was a large share of a command's CPU. Whatever would refuse it later is its ``exp``, which
        the entry does not outlive; a refused token is never remembered."""
        hit = self._verified.get(token)
        if hit is not None:
            if hit[1] > time.time():
                return hit[0]
            del self._verified[token]
        principal, expires = await self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        alg = header.get("alg")
        if alg == DEV_ALGORITHM and self.dev_secret is not None:
            return self._development(token)
        if alg not in PROVIDER_ALGORITHMS:
            raise InvalidToken(f"algorithm {alg!r} is not accepted" + _dev_hint(alg, self.dev_secret))
        if self.issuer is None:
            raise InvalidToken("no OpenID Connect issuer is configured (MENTORSHIP_OIDC_ISSUER)")
        kid = header.get("kid")
        try:
            key = await self.issuer.signing_key(kid if isinstance(kid, str) else None)
        except LookupError as exc:
            raise InvalidToken(str(exc)) from exc
        if key.algorithm_name != alg:
            raise InvalidToken(f"key {key.key_id!r} is for {key.algorithm_name}, the token says {alg}")
        claims = self._decode(
            token, key.key, alg, issuer=self.issuer.url, audience=self.audience, require=["aud", "iss", "sub"]
        )
        return self.mapping.principal(claims), float(claims["exp"])

    def _development(self, token: str) -> tuple[Principal, float]:
        claims = self._decode(token, self.dev_secret, DEV_ALGORITHM, issuer=DEV_ISSUER, audience=None, require=["sub"])
        try:
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except ValueError as exc:
            raise InvalidToken(str(exc)) from exc
        return Principal(subject=claims["sub"], roles=roles), float(claims["exp"])

    def _decode(
        self, token: str, key: Any, alg: str, *, issuer: str, audience: str | None, require: list[str]
    ) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                issuer=issuer,
                audience=audience,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", *require], "verify_aud": audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self.max_lifetime.total_seconds():
            raise InvalidToken(
                f"the token lives {lifetime:.0f}s, longer than the {self.max_lifetime.total_seconds():.0f}s allowed"
            )
        return claims


def _dev_hint(alg: object, dev_secret: str | None) -> str:
    if alg == DEV_ALGORITHM and dev_secret is None:
        return " (development tokens are accepted only in development mode, MENTORSHIP_DEV_MODE=1)"
    return ""


async def authenticate(app: Any, token: str) -> Principal:
    """The one way a token is checked: by the verifier the app was built with (``app.state.token_verifier``)."""
    verifier: TokenVerifier = app.state.token_verifier
    return await verifier.verify(token)


_bearer = HTTPBearer(auto_error=False)
BEARER = _bearer
"""The bearer scheme ``current_principal`` reads its credentials with (``shared.edge`` recognises it)."""


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The bearer token's principal. Only a bearer header: no cookie authorises a service's API.

    A valid token of a person this service knows as erased (410) or deactivated (403 on commands) is refused
    here, before the route runs (``shared.standing``).

    Once per request: the edge resolves a route's authentication before its body (``shared.edge``) and FastAPI
    resolves it again with the route's other dependencies; the second time finds the first's principal on the
    request's scope, so the token and the standing are checked once (bench/load.py --profile: the standing
    query ran twice for every command with a body)."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    known = request.scope.get(_PRINCIPAL_SCOPE_KEY)
    if known is not None and known[0] == credentials.credentials:
        return known[1]
    try:
        principal = await authenticate(request.app, credentials.credentials)
    except InvalidToken as exc:
        raise _unauthorized(f"invalid token: {exc}") from exc
    except IssuerUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"cannot check the token now: {exc}") from exc
    await _check_standing(request, principal)
    request.scope[_PRINCIPAL_SCOPE_KEY] = (credentials.credentials, principal)
    return principal


_PRINCIPAL_SCOPE_KEY = "mentorship.principal"
"""Where ``current_principal`` keeps the request's accepted token and its principal (the ASGI scope lives as long
as the request)."""


async def _check_standing(request: Request, principal: Principal) -> None:
    """Refuse the caller if this service learnt they were erased or deactivated (``shared.standing``)."""
    runtime = getattr(request.app.state, "runtime", None)
    pool = getattr(runtime, "pool", None)
    if pool is None:
        return
    cache = getattr(request.app.state, "standing_cache", None)
    refused = refusal(principal.subject, await standing_of(pool, principal.subject, cache), request.method)
    if refused is not None:
        raise HTTPException(refused[0], detail=refused[1])


ROLE_CHECKS: set[Callable[..., Any]] = set()
"""Every dependency ``require_roles`` made: each takes what ``current_principal`` takes, the request and the bearer
scheme's credentials (``shared.edge`` calls them directly so)."""


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold at least one of ``roles``.

    It takes the bearer credentials itself and calls ``current_principal`` with them, rather than depending on
    ``current_principal`` (the same checks, in the same order, the same security scheme in the OpenAPI): FastAPI's
    resolution of a dependency costs more than most dependencies, on every request (bench/load.py --profile)."""
    allowed = set(roles)

    async def check(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        principal = await current_principal(request, credentials)
        if not principal.has_any(allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"requires one of the roles: {', '.join(sorted(allowed))}",
            )
        return principal

    ROLE_CHECKS.add(check)
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
