"""Bearer JWT with roles: 401 without or with a bad token, 403 with the wrong role."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.auth import TOKEN_COOKIE, InvalidToken, Principal, Role, mint_token, require_roles, verify_token

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.state.jwt_secret = SECRET

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
        mint_token(SECRET, "x", [Role.admin], ttl=timedelta(seconds=-1)),
        jwt.encode({"sub": "x", "roles": ["admin"], "iss": "someone-else", "exp": 9999999999}, SECRET, "HS256"),
        jwt.encode(
            {"sub": "x", "roles": ["superuser"], "iss": "mentorship-platform", "exp": 9999999999}, SECRET, "HS256"
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


def test_a_sign_in_cookie_authorises_reads_but_never_changes(client: TestClient) -> None:
    client.cookies.set(TOKEN_COOKIE, mint_token(SECRET, "director", [Role.admin]))
    assert client.get("/admin-only").json() == {"subject": "director"}
    assert client.post("/admin-only").status_code == 401  # a cross-site form could ride a cookie
    client.cookies.set(TOKEN_COOKIE, "garbage")
    assert client.get("/admin-only").status_code == 401
