"""Signing people in to web pages: the OpenID Connect authorization code flow with PKCE, as a confidential client.

``begin`` gives the provider's authorization URL with a fresh ``state``, ``nonce`` and PKCE verifier (S256), which the
caller keeps server-side; ``finish`` exchanges the code (with the verifier and the client's secret) at the token
endpoint and verifies the ID token: signature against the provider's JWKS (``shared.issuer``), issuer, audience (this
client), expiry, and the nonce. ``end_session_url`` is RP-initiated logout where the provider offers it.

A client that calls APIs for the person (the portal) names their audiences as ``resources`` (RFC 8707 resource
indicators, asked for at the authorization endpoint): ``exchange`` then also returns the token answer (an access token
for the first resource and a refresh token), and ``refresh`` gets an access token for any of the others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt

from shared.auth import PROVIDER_ALGORITHMS, ClaimMapping, InvalidToken, Principal
from shared.issuer import Issuer, IssuerUnavailable


class SignInFailed(ValueError):
    """The provider refused the code, or its answer or ID token is not acceptable."""


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint answered: an access token (for ``resource``), when it ends, and a refresh token."""

    access_token: str | None
    expires_in: int | None
    refresh_token: str | None
    resource: str | None


@dataclass(frozen=True)
class LoginStart:
    url: str
    state: str
    nonce: str
    code_verifier: str


def code_challenge(verifier: str) -> str:
    """PKCE S256 (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class OidcClient:
    def __init__(
        self,
        issuer: Issuer,
        client_id: str,
        client_secret: str,
        *,
        mapping: ClaimMapping,
        scope: str = "openid profile",
        leeway: timedelta = timedelta(seconds=30),
        max_lifetime: timedelta = timedelta(hours=12),
        resources: tuple[str, ...] = (),
    ) -> None:
        self.issuer, self.client_id, self.client_secret = issuer, client_id, client_secret
        self.mapping, self.scope, self.leeway, self.max_lifetime = mapping, scope, leeway, max_lifetime
        self.resources = resources

    async def begin(self, redirect_uri: str) -> LoginStart:
        metadata = await self.issuer.metadata()
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge(verifier),
                "code_challenge_method": "S256",
            }
            | ({"resource": list(self.resources)} if self.resources else {}),
            doseq=True,
        )
        return LoginStart(f"{metadata['authorization_endpoint']}?{query}", state, nonce, verifier)

    async def finish(self, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> Principal:
        """The signed-in person, from the ID token the code is exchanged for."""
        return (await self.exchange(code, redirect_uri, code_verifier, nonce))[0]

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> tuple[Principal, TokenSet]:
        """The signed-in person and the token answer (for the first of ``resources``, if any)."""
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        resource = self.resources[0] if self.resources else None
        status_code, answer = await self._token_request(data | ({"resource": resource} if resource else {}))
        if status_code != 200:
            raise SignInFailed(f"the provider refused the code: {answer.get('error', status_code)}")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("the provider's answer holds no ID token")
        claims = await self.verify_id_token(id_token, nonce)
        try:
            principal = self.mapping.principal(claims)
        except InvalidToken as exc:
            raise SignInFailed(str(exc)) from exc
        return principal, _token_set(answer, resource)

    async def refresh(self, refresh_token: str, resource: str | None = None) -> TokenSet:
        """A new access token (for ``resource``, one of ``resources``) with the refresh grant (RFC 6749 §6, 8707)."""
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        status_code, answer = await self._token_request(data | ({"resource": resource} if resource else {}))
        if status_code != 200 or not isinstance(answer.get("access_token"), str):
            raise SignInFailed(f"the provider refused the refresh: {answer.get('error', status_code)}")
        return _token_set(answer, resource)

    async def _token_request(self, data: dict[str, str]) -> tuple[int, dict[str, Any]]:
        metadata = await self.issuer.metadata()
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.post(
                    metadata["token_endpoint"],
                    data=data,
                    # client_secret_basic: id and secret form-encoded first (RFC 6749 §2.3.1)
                    auth=(quote(self.client_id, safe=""), quote(self.client_secret, safe="")),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as exc:
            raise IssuerUnavailable(f"cannot reach the token endpoint: {exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return response.status_code, answer if isinstance(answer, dict) else {}

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            alg, kid = header.get("alg"), header.get("kid")
            if alg not in PROVIDER_ALGORITHMS:
                raise SignInFailed(f"ID token algorithm {alg!r} is not accepted")
            key = await self.issuer.signing_key(kid if isinstance(kid, str) else None)
            if key.algorithm_name != alg:
                raise SignInFailed(f"key {key.key_id!r} is for {key.algorithm_name}, the ID token says {alg}")
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=[alg],
                audience=self.client_id,
                issuer=self.issuer.url,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
            )
        except (jwt.PyJWTError, LookupError) as exc:
            raise SignInFailed(f"the ID token is not valid: {exc}") from exc
        if not hmac.compare_digest(str(claims["nonce"]), nonce):
            raise SignInFailed("the ID token's nonce is not this sign-in's")
        if claims.get("azp", self.client_id) != self.client_id:
            raise SignInFailed("the ID token was issued to another client")
        if claims["exp"] - claims["iat"] > self.max_lifetime.total_seconds():
            raise SignInFailed("the ID token lives longer than allowed")
        return claims

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to sign out at the provider too; None if it offers no RP-initiated logout."""
        endpoint = (await self.issuer.metadata()).get("end_session_endpoint")
        if not endpoint:
            return None
        query = urlencode({"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri})
        return f"{endpoint}?{query}"


def _token_set(answer: dict[str, Any], resource: str | None) -> TokenSet:
    access, refresh, expires_in = answer.get("access_token"), answer.get("refresh_token"), answer.get("expires_in")
    return TokenSet(
        access if isinstance(access, str) else None,
        expires_in if isinstance(expires_in, int) else None,
        refresh if isinstance(refresh, str) else None,
        resource,
    )
