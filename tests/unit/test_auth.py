"""Bearer JWT with roles: 401 without or with a bad token, 403 with the wrong role; development tokens only in
development mode; the claim mapping. (Provider tokens: tests/integration/test_oidc_tokens.py, on the real provider.)"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Annotated

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.auth import ClaimMapping, InvalidToken, Principal, Role, TokenVerifier, mint_token, require_roles
from shared.settings import ServiceSettings

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
DEV = TokenVerifier(dev_secret=SECRET)  # development mode
NOW = int(time.time())


def verify_token(secret: str, token: str, verifier: TokenVerifier = DEV) -> Principal:
    assert secret == verifier.dev_secret
    return asyncio.run(verifier.verify(token))


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.state.token_verifier = DEV

    @app.get("/admin-only")
    def admin_only(who: Annotated[Principal, Depends(require_roles(Role.admin))]) -> dict:
        return {"subject": who.subject}

    @app.post("/admin-only")
    def admin_change(who: Annotated[Principal, Depends(require_roles(Role.admin))]) -> dict:
        return {"changed_by": who.subject}

    @app.get("/participants")
    def participants(who: Annotated[Principal, Depends(require_roles(Role.mentor, Role.mentee))]) -> dict:
        return {"roles": sorted(who.roles)}

    return TestClient(app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_round_trip_keeps_subject_and_roles() -> None:
    principal = verify_token(SECRET, mint_token(SECRET, "mentee-7", [Role.mentee, Role.mentor]))
    assert principal.subject == "mentee-7"
    assert principal.roles == {Role.mentee, Role.mentor}


@pytest.mark.parametrize(
    "token",
    [
        mint_token("another-secret-another-secret-another-secret", "x", [Role.admin]),
        mint_token(SECRET, "x", [Role.admin], ttl=timedelta(seconds=-60)),  # beyond the leeway
        jwt.encode(
            {"sub": "x", "roles": ["admin"], "iss": "someone-else", "iat": NOW, "exp": NOW + 600}, SECRET, "HS256"
        ),
        jwt.encode(
            {"sub": "x", "roles": ["superuser"], "iss": "mentorship-platform", "iat": NOW, "exp": NOW + 600},
            SECRET,
            "HS256",
        ),
        "not.a.jwt",
    ],
    ids=["wrong-secret", "expired", "wrong-issuer", "unknown-role", "garbage"],
)
def test_bad_tokens_are_rejected(token: str, client: TestClient) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)
    response = client.get("/admin-only", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_missing_token_is_401(client: TestClient) -> None:
    response = client.get("/admin-only")
    assert response.status_code == 401 and response.json()["detail"] == "missing bearer token"


def test_wrong_role_is_403_naming_the_roles_needed(client: TestClient) -> None:
    response = client.get("/admin-only", headers=bearer(mint_token(SECRET, "m1", [Role.mentor])))
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


def test_any_of_the_roles_is_enough(client: TestClient) -> None:
    ok = client.get("/participants", headers=bearer(mint_token(SECRET, "m1", [Role.mentee])))
    analyst = client.get("/participants", headers=bearer(mint_token(SECRET, "a1", [Role.analyst])))
    assert ok.status_code == 200 and ok.json() == {"roles": ["mentee"]}
    assert analyst.status_code == 403


def test_no_cookie_authorises_an_api(client: TestClient) -> None:
    for name in ("mentorship_token", "mentorship_session"):
        client.cookies.set(name, mint_token(SECRET, "director", [Role.admin]))
    assert client.get("/admin-only").status_code == 401
    assert client.post("/admin-only").status_code == 401


def test_development_tokens_only_in_development_mode() -> None:
    production = TokenVerifier(dev_secret=None)
    token = mint_token(SECRET, "director", [Role.admin])
    with pytest.raises(InvalidToken, match="only in development mode"):
        asyncio.run(production.verify(token))
    assert verify_token(SECRET, token).subject == "director"


@pytest.mark.parametrize("dev_mode", [False, True])
def test_outside_development_mode_a_token_signed_with_the_operators_secret_is_401(
    dev_mode: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever ``MENTORSHIP_JWT_SECRET`` says, the verifier a service builds from its settings takes HS256 tokens
    only in development mode: a secret an operator set (out of habit, or copied from an old deployment) opens
    nothing outside it."""
    operator_secret = "an-operator-chose-this-secret-0123456789abcdef"
    monkeypatch.setenv("MENTORSHIP_JWT_SECRET", operator_secret)
    monkeypatch.setenv("MENTORSHIP_DEV_MODE", "1" if dev_mode else "0")
    settings = ServiceSettings(service_name="profiles", pg_dsn="postgresql://unused")
    assert settings.jwt_secret == operator_secret and settings.dev_mode is dev_mode
    app = FastAPI()
    app.state.token_verifier = TokenVerifier.from_settings(settings)

    @app.get("/admin-only")
    def admin_only(who: Annotated[Principal, Depends(require_roles(Role.admin))]) -> dict:
        return {"subject": who.subject}

    response = TestClient(app).get("/admin-only", headers=bearer(mint_token(operator_secret, "director", [Role.admin])))
    if dev_mode:
        assert response.status_code == 200 and response.json() == {"subject": "director"}
    else:
        assert response.status_code == 401
        assert "only in development mode" in response.json()["detail"]


def test_a_token_living_longer_than_the_cap_is_refused() -> None:
    capped = TokenVerifier(dev_secret=SECRET, max_lifetime=timedelta(hours=1))
    assert asyncio.run(capped.verify(mint_token(SECRET, "a", [Role.admin], ttl=timedelta(minutes=59)))).subject == "a"
    with pytest.raises(InvalidToken, match="longer than the 3600s allowed"):
        asyncio.run(capped.verify(mint_token(SECRET, "a", [Role.admin], ttl=timedelta(days=3650))))


def test_alg_none_is_refused() -> None:
    token = jwt.encode({"sub": "x", "roles": ["admin"], "iss": "mentorship-platform", "exp": 9999999999}, None, "none")
    with pytest.raises(InvalidToken, match="'none' is not accepted"):
        verify_token(SECRET, token)


def test_claims_map_to_the_participant_and_roles() -> None:
    mapping = ClaimMapping("employee_id", "groups", {"cn=mentoring-directors": "admin", "analysts": "analyst"})
    person = mapping.principal({"sub": "u-1", "employee_id": "E042", "groups": ["cn=mentoring-directors", "staff"]})
    assert person == Principal(subject="E042", roles=frozenset({Role.admin}))
    assert mapping.principal({"sub": "svc", "client_id": "svc", "groups": "analysts"}).subject == "svc"
    with pytest.raises(InvalidToken, match="no employee_id claim"):
        mapping.principal({"sub": "u-1", "groups": ["analysts"]})  # a person's token without the claim
    plain = ClaimMapping()
    assert plain.principal({"sub": "m", "groups": ["mentor", "admins", "mentee"]}).roles == {Role.mentor, Role.mentee}
    with pytest.raises(ValueError, match="superuser"):
        ClaimMapping(role_map={"x": "superuser"})


def test_an_accepted_token_is_remembered_until_its_expiry_and_a_refused_one_never(monkeypatch) -> None:
    import shared.auth

    verifier = TokenVerifier(dev_secret=SECRET)
    token = mint_token(SECRET, "alice", [Role.mentor])
    first = asyncio.run(verifier.verify(token))

    def decoded_again(*_args, **_kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(jwt, "decode", decoded_again)
    assert asyncio.run(verifier.verify(token)) == first  # remembered: not checked again
    monkeypatch.setattr(shared.auth.time, "time", lambda: 4_000_000_000.0)  # past the token's exp
    with pytest.raises(AssertionError, match="decoded again"):
        asyncio.run(verifier.verify(token))  # forgotten at its exp: checked again
    monkeypatch.undo()
    forged = mint_token("another-secret-that-is-long-enough-for-hs256", "alice", [Role.admin])
    for _ in range(2):
        with pytest.raises(InvalidToken):
            asyncio.run(verifier.verify(forged))
    assert forged not in verifier._verified
