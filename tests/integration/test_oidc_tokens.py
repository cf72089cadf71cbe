"""Access tokens of the real development OpenID Connect provider (oidc-provider, its own Node process), checked by
the verifier every service builds from its settings (``shared.auth.TokenVerifier``), behind the routes' own
dependencies: what is accepted, what is refused (401), who the caller is, and keys rotated at the provider."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI

from mentorship.devstack.oidc import HR_INTEGRATION, OPERATOR, OidcProvider, start_oidc_provider
from mentorship.devstack.processes import free_port
from shared.auth import InvalidToken, Principal, Role, TokenVerifier, mint_token, require_roles
from shared.settings import DEV_JWT_SECRET, ServiceSettings


def settings_for(provider: OidcProvider, service: str = "profiles", **overrides: object) -> ServiceSettings:
    """A service's settings outside development mode, trusting ``provider`` as the institution's."""
    values = {"dev_mode": False, "oidc_issuer": provider.issuer, "oidc_subject_claim": "employee_id"} | overrides
    return ServiceSettings(service_name=service, pg_dsn="postgresql://unused", **values)


def verifier_for(provider: OidcProvider, service: str = "profiles", **overrides: object) -> TokenVerifier:
    return TokenVerifier.from_settings(settings_for(provider, service, **overrides))


@pytest.fixture(scope="module")
def other_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """Another institution's provider (same software, same audiences, its own keys); its tokens live 3 s."""
    with start_oidc_provider(log_dir=tmp_path_factory.mktemp("other-oidc"), access_token_ttl=3) as provider:
        yield provider


@pytest.fixture
async def profiles(oidc_provider: OidcProvider) -> AsyncIterator[httpx.AsyncClient]:
    """Routes guarded as profiles' are, on a verifier built from profiles' settings (production mode)."""
    app = FastAPI()
    app.state.token_verifier = verifier_for(oidc_provider)

    @app.get("/who")
    async def who(caller: Annotated[Principal, Depends(require_roles(*Role))]) -> dict:
        return {"subject": caller.subject, "roles": sorted(caller.roles)}

    @app.get("/directors-only")
    async def directors(caller: Annotated[Principal, Depends(require_roles(Role.admin))]) -> dict:
        return {"subject": caller.subject}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://profiles") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(token: str, alg: str, key: bytes | None) -> str:
    """``token``'s claims and key id under another header ``alg``, signed with ``key`` (HMAC) or unsigned."""
    header = jwt.get_unverified_header(token) | {"alg": alg}
    claims = jwt.decode(token, options={"verify_signature": False})
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    return f"{signing_input}.{signature}"


def public_key_pem(provider: OidcProvider, kid: str) -> bytes:
    jwk = next(k for k in provider.jwks()["keys"] if k["kid"] == kid)
    return jwt.PyJWK(jwk).key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


async def test_a_system_token_for_this_service_is_accepted(profiles: httpx.AsyncClient, oidc_provider) -> None:
    token = oidc_provider.client_credentials(HR_INTEGRATION, "profiles")
    response = await profiles.get("/who", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {"subject": "mentorship-hr-integration", "roles": ["hr-integration"]}
    forbidden = await profiles.get("/directors-only", headers=bearer(token))
    assert forbidden.status_code == 403 and "admin" in forbidden.json()["detail"]


async def test_people_sign_in_as_their_participant_with_their_roles(profiles: httpx.AsyncClient, oidc_provider) -> None:
    seen = {}
    for username in ("director", "analyst", "mentor", "mentee"):
        token = await asyncio.to_thread(oidc_provider.person_token, username, "profiles")
        response = await profiles.get("/who", headers=bearer(token))
        assert response.status_code == 200, response.text
        seen[username] = response.json()
    assert seen == {
        "director": {"subject": "demo-director", "roles": ["admin"]},
        "analyst": {"subject": "demo-analyst", "roles": ["analyst"]},
        "mentor": {"subject": "E20001", "roles": ["mentor"]},  # the employee id claim, not the provider's sub
        "mentee": {"subject": "E20002", "roles": ["mentee"]},
    }
    ok = await profiles.get(
        "/directors-only", headers=bearer(await asyncio.to_thread(oidc_provider.person_token, "director", "profiles"))
    )
    assert ok.json() == {"subject": "demo-director"}


async def test_the_role_map_and_claims_are_the_institutions_to_choose(oidc_provider) -> None:
    token = await asyncio.to_thread(oidc_provider.person_token, "analyst", "matching")
    mapped = verifier_for(oidc_provider, "matching", oidc_role_map={"analyst": "admin", "mentee": "mentee"})
    assert await mapped.verify(token) == Principal(subject="demo-analyst", roles=frozenset({Role.admin}))
    by_sub = verifier_for(oidc_provider, "matching", oidc_subject_claim="sub")
    assert (await by_sub.verify(token)).subject == "analyst"  # the provider's own subject
    by_missing = verifier_for(oidc_provider, "matching", oidc_subject_claim="staff_number")
    with pytest.raises(InvalidToken, match="no staff_number claim"):
        await by_missing.verify(token)


async def test_tokens_not_meant_for_this_service_are_refused(
    profiles: httpx.AsyncClient, oidc_provider: OidcProvider, other_provider: OidcProvider
) -> None:
    good = oidc_provider.client_credentials(OPERATOR, "profiles")
    kid = jwt.get_unverified_header(good)["kid"]
    refused = {
        "another audience": oidc_provider.client_credentials(OPERATOR, "analytics"),
        "another issuer": other_provider.client_credentials(OPERATOR, "profiles"),
        "alg none": forged(good, "none", None),
        "HS256 with the provider's public key": forged(good, "HS256", public_key_pem(oidc_provider, kid)),
        "a development token outside development mode": mint_token(DEV_JWT_SECRET, "director", [Role.admin]),
        "garbage": "not.a.token",
    }
    assert (await profiles.get("/who", headers=bearer(good))).status_code == 200
    for why, token in refused.items():
        response = await profiles.get("/who", headers=bearer(token))
        assert response.status_code == 401, (why, response.text)
        assert response.headers["www-authenticate"] == "Bearer", why
    no_token = await profiles.get("/who")
    assert no_token.status_code == 401


async def test_hs256_with_the_public_key_fails_in_development_mode_too(oidc_provider) -> None:
    good = oidc_provider.client_credentials(OPERATOR, "profiles")
    dev = verifier_for(oidc_provider, dev_mode=True)
    assert (await dev.verify(mint_token(DEV_JWT_SECRET, "d", [Role.admin]))).subject == "d"
    pem = public_key_pem(oidc_provider, jwt.get_unverified_header(good)["kid"])
    with pytest.raises(InvalidToken, match="Signature verification failed"):
        await dev.verify(forged(good, "HS256", pem))


async def test_expired_tokens_and_tokens_living_too_long_are_refused(other_provider: OidcProvider) -> None:
    strict = verifier_for(other_provider, token_leeway_seconds=0)
    token = other_provider.client_credentials(OPERATOR, "profiles")
    assert (await strict.verify(token)).subject == "mentorship-operator"
    claims = jwt.decode(token, options={"verify_signature": False})
    await asyncio.sleep(max(0.0, claims["exp"] + 1.1 - time.time()))
    with pytest.raises(InvalidToken, match="expired"):
        await strict.verify(token)


async def test_a_token_longer_lived_than_the_cap_is_refused(oidc_provider) -> None:
    token = oidc_provider.client_credentials(OPERATOR, "profiles")  # lives 600 s
    capped = verifier_for(oidc_provider, token_max_lifetime_seconds=300)
    with pytest.raises(InvalidToken, match="longer than the 300s allowed"):
        await capped.verify(token)
    assert (await verifier_for(oidc_provider, token_max_lifetime_seconds=600).verify(token)).roles == {
        Role.admin,
        Role.analyst,
    }


async def test_keys_rotated_at_the_provider_are_followed_without_a_restart(oidc_provider) -> None:
    verifier = verifier_for(oidc_provider, oidc_jwks_refresh_seconds=0)
    before = oidc_provider.client_credentials(OPERATOR, "profiles")
    assert (await verifier.verify(before)).subject == "mentorship-operator"
    kids = await asyncio.to_thread(oidc_provider.rotate_keys)
    after = oidc_provider.client_credentials(OPERATOR, "profiles")
    assert jwt.get_unverified_header(after)["kid"] == kids[0] != jwt.get_unverified_header(before)["kid"]
    assert (await verifier.verify(after)).subject == "mentorship-operator"  # the new key, fetched on sight
    assert (await verifier.verify(before)).subject == "mentorship-operator"  # the old key is still published


async def test_unknown_key_ids_refetch_the_keys_at_most_once_per_interval(oidc_provider) -> None:
    verifier = verifier_for(oidc_provider, oidc_jwks_refresh_seconds=60)
    good = oidc_provider.client_credentials(OPERATOR, "profiles")
    await verifier.verify(good)
    fetched_at = verifier.issuer._fetched_at
    header = {"alg": "RS256", "kid": "made-up"}
    for n in range(5):
        token = f"{_b64(json.dumps(header | {'n': n}).encode())}.{good.split('.')[1]}.{good.split('.')[2]}"
        with pytest.raises(InvalidToken, match="no signing key 'made-up'"):
            await verifier.verify(token)
    assert verifier.issuer._fetched_at == fetched_at  # no refetch: the last one was less than 60 s ago


async def test_an_unreachable_provider_is_a_503_not_a_401(oidc_provider) -> None:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier.from_settings(
        ServiceSettings(service_name="profiles", pg_dsn="x", oidc_issuer=f"http://127.0.0.1:{free_port()}")
    )

    @app.get("/who")
    async def who(caller: Annotated[Principal, Depends(require_roles(*Role))]) -> dict:
        return {"subject": caller.subject}

    token = oidc_provider.client_credentials(OPERATOR, "profiles")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
        response = await client.get("/who", headers=bearer(token))
    assert response.status_code == 503 and "cannot check the token" in response.json()["detail"]
