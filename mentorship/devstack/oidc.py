"""The development OpenID Connect provider: the npm ``oidc-provider`` as its own Node process (``oidc/provider.mjs``).

Used by ``mentorship dev up`` and the test fixtures in place of the institution's provider. It holds the demo
institution's people (the director, an analyst, a mentor and a mentee, with one known development password) and the
platform's clients: the dashboard and the portal (authorization code with PKCE; the portal with refresh tokens), the
HR integration and the operator CLI (client credentials). Its access tokens are RS256 JWTs whose audience is the
service they are for (a resource indicator per service); the dashboard's ID tokens are ES256. ``rotate_keys`` puts
new signing keys first, as an institution would. Development only: the passwords and client secrets below are
public.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from mentorship.devstack.processes import ManagedProcess, free_port
from shared.bus import SERVICES
from shared.oidc_client import code_challenge

PROVIDER_SCRIPT = Path(__file__).parent / "oidc" / "provider.mjs"
DEFAULT_PORT = 8010
DEV_PASSWORD = "mentorship-dev"
AUDIENCE = "urn:mentorship:{service}"
"""The services' audiences (``MENTORSHIP_OIDC_AUDIENCE``'s default): one per service, a resource indicator each."""
SUBJECT_CLAIM = "employee_id"


@dataclass(frozen=True)
class DevAccount:
    username: str
    name: str
    employee_id: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class DevClient:
    client_id: str
    client_secret: str
    groups: tuple[str, ...] = ()


DASHBOARD = DevClient("mentorship-dashboard", "dev-only-dashboard-secret")
PORTAL = DevClient("mentorship-portal", "dev-only-portal-secret")
"""The portal's client: authorization code with PKCE, and refresh tokens to get an access token per service."""
HR_INTEGRATION = DevClient("mentorship-hr-integration", "dev-only-hr-integration-secret", ("hr-integration",))
OPERATOR = DevClient("mentorship-operator", "dev-only-operator-secret", ("admin", "analyst"))
"""The operator CLI's client (``mentorship replay``, ``republish``): the director's and an analyst's reach."""

STAFF_ACCOUNTS = (
    DevAccount("director", "Program Director", "demo-director", ("admin",)),
    DevAccount("analyst", "Program Analyst", "demo-analyst", ("analyst",)),
)


def demo_accounts(seed: int, scale: str) -> tuple[DevAccount, ...]:
    """The director, the analyst, and the demo institution's first mentor and first mentee (their employee ids)."""
    from datetime import UTC, datetime

    from mentorship.devstack.demo import SCALES, generate

    plan = generate(seed, SCALES[scale], datetime.now(UTC).date())
    mentor = next(p for p in plan.people if p.role == "mentor")
    mentee = next(p for p in plan.people if p.role == "mentee")
    return (
        *STAFF_ACCOUNTS,
        DevAccount("mentor", mentor.staff.name, mentor.participant_id, ("mentor",)),
        DevAccount("mentee", mentee.staff.name, mentee.participant_id, ("mentee",)),
    )


@dataclass
class OidcProvider:
    """A running development provider."""

    issuer: str
    accounts: tuple[DevAccount, ...]
    admin_secret: str
    process: ManagedProcess

    def service_env(self) -> dict[str, str]:
        """What every service needs to accept this provider's tokens and sign people in to its pages."""
        return {
            "MENTORSHIP_OIDC_ISSUER": self.issuer,
            "MENTORSHIP_OIDC_AUDIENCE": AUDIENCE,
            "MENTORSHIP_OIDC_SUBJECT_CLAIM": SUBJECT_CLAIM,
            "MENTORSHIP_OIDC_ROLES_CLAIM": "groups",
            "MENTORSHIP_OIDC_CLIENT_ID": DASHBOARD.client_id,
            "MENTORSHIP_OIDC_CLIENT_SECRET": DASHBOARD.client_secret,
            "MENTORSHIP_OIDC_SCOPES": "openid profile groups employee",
        }

    def portal_env(self) -> dict[str, str]:
        """What the portal needs: every service's settings, its own client, and the scope that brings API tokens."""
        return self.service_env() | {
            "MENTORSHIP_OIDC_CLIENT_ID": PORTAL.client_id,
            "MENTORSHIP_OIDC_CLIENT_SECRET": PORTAL.client_secret,
            "MENTORSHIP_OIDC_SCOPES": "openid profile groups employee api",
        }

    def cli_env(self, client: DevClient = OPERATOR) -> dict[str, str]:
        """What the operator CLI needs to fetch its tokens with the client-credentials grant."""
        return {
            "MENTORSHIP_OIDC_ISSUER": self.issuer,
            "MENTORSHIP_OIDC_AUDIENCE": AUDIENCE,
            "MENTORSHIP_CLI_CLIENT_ID": client.client_id,
            "MENTORSHIP_CLI_CLIENT_SECRET": client.client_secret,
        }

    def client_credentials(self, client: DevClient, service: str) -> str:
        """An access token for ``client`` (client-credentials grant) whose audience is ``service``."""
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "resource": AUDIENCE.format(service=service), "scope": "api"},
            auth=(client.client_id, client.client_secret),
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def person_token(self, username: str, service: str, password: str = DEV_PASSWORD) -> str:
        """An access token of ``username`` for ``service`` (see ``person_token``)."""
        return person_token(self.issuer, username, service, password)

    def rotate_keys(self) -> list[str]:
        """New signing keys go first (new tokens use them); the old ones stay published. Returns every kid."""
        response = httpx.post(
            f"{self.issuer}/dev/rotate-keys", headers={"Authorization": f"Bearer {self.admin_secret}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()["kids"]

    def jwks(self) -> dict:
        return httpx.get(f"{self.issuer}/jwks", timeout=10).json()


def person_token(issuer: str, username: str, service: str, password: str = DEV_PASSWORD) -> str:
    """An access token of ``username`` for ``service``: the authorization code flow with PKCE, signing in on the
    provider's development form as a browser would (the dashboard's client; development only)."""
    verifier = secrets.token_urlsafe(48)
    redirect_uri = "http://127.0.0.1/auth/callback"
    audience = AUDIENCE.format(service=service)
    query = {
        "client_id": DASHBOARD.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid profile groups employee api",
        "resource": audience,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    with httpx.Client(base_url=issuer, timeout=10) as http:
        response = http.get("/auth", params=query)
        for _ in range(10):
            location = response.headers.get("location", "")
            if location.startswith(redirect_uri):
                break
            if response.status_code == 200 and "/interaction/" in str(response.url):
                response = http.post(f"{response.url.path}/login", data={"username": username, "password": password})
                if response.status_code != 303:
                    raise PermissionError(f"the provider refused {username!r}: {response.status_code}")
                continue
            if not location:
                raise RuntimeError(f"the sign-in stopped at {response.url} ({response.status_code})")
            response = http.get(location)
        code = httpx.URL(location).params.get("code")
        if not code:
            raise RuntimeError(f"the provider sent no code: {location}")
        answer = http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "resource": audience,
            },
            auth=(DASHBOARD.client_id, DASHBOARD.client_secret),
        )
        answer.raise_for_status()
        return answer.json()["access_token"]


def _config(issuer: str, port: int, accounts: Iterable[DevAccount], admin_secret: str, access_token_ttl: int) -> dict:
    loopback = ("http://127.0.0.1", "http://localhost")
    return {
        "issuer": issuer,
        "port": port,
        "password": DEV_PASSWORD,
        "admin_secret": admin_secret,
        "access_token_ttl": access_token_ttl,
        "accounts": [asdict(a) | {"groups": list(a.groups)} for a in accounts],
        "resources": [AUDIENCE.format(service=s) for s in SERVICES],
        "clients": [
            {
                # A native client: loopback redirect URIs match on any port (RFC 8252 §7.3), so the dashboard
                # may run on a free port in tests.
                "client_id": DASHBOARD.client_id,
                "client_secret": DASHBOARD.client_secret,
                "client_name": "Program-evaluation dashboard",
                "application_type": "native",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": [f"{host}/auth/callback" for host in loopback],
                "post_logout_redirect_uris": [f"{host}/login" for host in loopback],
                "token_endpoint_auth_method": "client_secret_basic",
                "id_token_signed_response_alg": "ES256",
            },
            {
                # The portal calls the services' APIs as the person: access tokens per service (resource
                # indicators) through a refresh token, kept server-side by the portal.
                "client_id": PORTAL.client_id,
                "client_secret": PORTAL.client_secret,
                "client_name": "Mentoring portal",
                "application_type": "native",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "redirect_uris": [f"{host}/auth/callback" for host in loopback],
                "post_logout_redirect_uris": [f"{host}/login" for host in loopback],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            *(
                {
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "grant_types": ["client_credentials"],
                    "response_types": [],
                    "redirect_uris": [],
                    "scope": "api",
                    "groups": list(c.groups),
                }
                for c in (HR_INTEGRATION, OPERATOR)
            ),
        ],
    }


@contextmanager
def start_oidc_provider(
    *,
    port: int | None = None,
    accounts: Iterable[DevAccount] = STAFF_ACCOUNTS,
    log_dir: Path | None = None,
    access_token_ttl: int = 600,
    timeout: float = 30.0,
) -> Iterator[OidcProvider]:
    """Start the provider (``node``) on ``port`` (a free one if None); stop it on exit."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: the development OpenID Connect provider needs it (make setup)")
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    accounts = tuple(accounts)
    admin_secret = secrets.token_urlsafe(24)
    workdir = Path(tempfile.mkdtemp(prefix="mentorship-oidc-"))
    config_path = workdir / "provider.json"
    config_path.write_text(json.dumps(_config(issuer, port, accounts, admin_secret, access_token_ttl)))
    config_path.chmod(0o600)
    log_path = (log_dir / "oidc-provider.log") if log_dir else workdir / "oidc-provider.log"
    process = ManagedProcess([node, PROVIDER_SCRIPT, config_path], log_path=log_path, name="oidc-provider")
    try:
        with process:  # started on entry, stopped on exit
            _wait_ready(issuer, process, timeout)
            yield OidcProvider(issuer, accounts, admin_secret, process)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_ready(issuer: str, process: ManagedProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_running():
            raise RuntimeError(f"the OpenID Connect provider exited during start-up:\n{process.log_tail()}")
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the OpenID Connect provider at {issuer} not ready after {timeout}s:\n{process.log_tail()}")


__all__ = [
    "DASHBOARD",
    "DEFAULT_PORT",
    "DEV_PASSWORD",
    "HR_INTEGRATION",
    "OPERATOR",
    "PORTAL",
    "DevAccount",
    "DevClient",
    "OidcProvider",
    "demo_accounts",
    "person_token",
    "start_oidc_provider",
]
