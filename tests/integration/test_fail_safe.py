"""Secrets that fail safe: outside development mode a service refuses to start (status 2, each bad setting
named) on a development key, a placeholder, a short key, no issuer, no role map, no note keys, a web client
without its secret or public https URL, an unsafe webhook or a broker connection nobody chose; in development
mode it starts with one warning line. The development token secret is asked for only in development mode: outside
it no HS256 token is accepted, whatever the secret.

Most refusals are checked on the check functions (``shared.startup_checks`` and the services' own); the
process tests start real ``python -m services.<name>`` processes with no ``MENTORSHIP_DEV_MODE`` (or ``0``):
refusals on defaults and on the Kubernetes template's placeholders, one start in development mode, and one
with safe settings outside it (which refuses a token signed with the secret it was given).
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deploy.k8s.generate import HERE as K8S
from mentorship.devstack.broker import Broker
from mentorship.devstack.postgres import Postgres
from mentorship.stack import start_services
from services.notifications.domain.signing import sign, verify
from services.notifications.settings import NotificationsSettings
from services.relationships.adapters.cipher import _DEV_KEY, new_key
from services.relationships.bootstrap import startup_findings as relationships_findings
from shared.auth import Role, mint_token
from shared.settings import DEV_JWT_SECRET, ServiceSettings
from shared.startup_checks import Finding, UnsafeSettings, enforce, service_findings

ROOT = Path(__file__).resolve().parents[2]
SAFE_SECRET = "k3Yb" * 16  # 64 characters, no template word
ROLE_MAP = {"mentoring-directors": "admin", "mentoring-analysts": "analyst", "mentors": "mentor"}
SAFE: dict[str, Any] = {
    "dev_mode": False,  # as a deployment runs (the session's MENTORSHIP_DEV_MODE=1 is removed below, too)
    "oidc_issuer": "https://login.uni.example/realms/staff",
    "oidc_role_map": ROLE_MAP,
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_username": "matching",
    "kafka_sasl_password": "a-long-scram-password-for-matching",
}


@pytest.fixture(autouse=True)
def no_mentorship_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks read the service settings from the environment: start each test from none."""
    for key in [k for k in os.environ if k.startswith("MENTORSHIP_")]:
        monkeypatch.delenv(key)


def settings(**changes: Any) -> ServiceSettings:
    values = {"service_name": "matching", "pg_dsn": "postgresql://unused/unused", **SAFE, **changes}
    return ServiceSettings(**{k: v for k, v in values.items() if v is not None})


def named(findings: list[Finding]) -> list[str]:
    return [f.setting for f in findings]


WEB_SIGN_IN: dict[str, Any] = {
    "oidc_client_id": "mentorship-dashboard",
    "oidc_client_secret": "Zq8-" + SAFE_SECRET,
    "public_url": "https://mentoring-dashboard.uni.example",
}


def test_safe_settings_pass() -> None:
    assert service_findings(settings()) == []
    assert service_findings(settings(kafka_security_protocol="PLAINTEXT")) == [], "PLAINTEXT chosen explicitly"
    assert service_findings(settings(service_name="analytics", **WEB_SIGN_IN)) == []


TOKEN_SECRETS = [
    (DEV_JWT_SECRET, "public development value"),
    ("REPLACE-with-a-random-64-char-secret", "placeholder (starts with 'replace')"),
    ("changeme-changeme-changeme-changeme-changeme", "placeholder (starts with 'changeme')"),
    ("dev-only-but-long-enough-to-pass-the-length-check", "placeholder (starts with 'dev-only')"),
    ("short-but-random-9f8a7", "too short (22 characters, at least 32)"),
    ("", "is not set"),
]


@pytest.mark.parametrize(("value", "problem"), TOKEN_SECRETS)
def test_outside_development_mode_the_token_secret_is_never_asked_for(value: str, problem: str) -> None:
    """No HS256 token is accepted outside development mode (tests/unit/test_auth.py), so its secret is not a
    deployment's concern: whatever it is, it is no finding."""
    assert service_findings(settings(jwt_secret=value)) == []


@pytest.mark.parametrize(("value", "problem"), TOKEN_SECRETS)
def test_in_development_mode_the_warning_names_a_development_token_secret(value: str, problem: str) -> None:
    [finding] = service_findings(settings(jwt_secret=value, dev_mode=True))
    assert finding.setting == "MENTORSHIP_JWT_SECRET" and problem in finding.problem
    assert service_findings(settings(jwt_secret=SAFE_SECRET, dev_mode=True)) == []


def test_the_role_map_is_the_institutions_own() -> None:
    [unset] = service_findings(settings(oidc_role_map={}))
    assert unset.setting == "MENTORSHIP_OIDC_ROLE_MAP" and "named like a role" in unset.problem
    template = {"REPLACE-with-the-directors-group": "admin", "mentors": "mentor"}  # the Kubernetes template's shape
    [placeholder] = service_findings(settings(oidc_role_map=template))
    assert placeholder.setting == "MENTORSHIP_OIDC_ROLE_MAP" and "placeholder group" in placeholder.problem


@pytest.mark.parametrize(
    ("changes", "setting", "problem"),
    [
        ({"oidc_client_secret": None}, "MENTORSHIP_OIDC_CLIENT_SECRET", "is not set (needed with"),
        (
            {"oidc_client_secret": "REPLACE-with-the-dashboard-client-secret"},
            "MENTORSHIP_OIDC_CLIENT_SECRET",
            "placeholder",
        ),
        ({"oidc_client_id": "REPLACE-with-the-dashboard-client-id"}, "MENTORSHIP_OIDC_CLIENT_ID", "placeholder"),
        (
            {"public_url": "http://mentoring-dashboard.uni.example"},
            "MENTORSHIP_PUBLIC_URL",
            "not an https URL (http://)",
        ),
        ({"public_url": "REPLACE-with-the-dashboard-https-url"}, "MENTORSHIP_PUBLIC_URL", "placeholder"),
        ({"public_url": "mentoring-dashboard.uni.example"}, "MENTORSHIP_PUBLIC_URL", "not an https URL (no scheme://)"),
    ],
)
def test_a_web_client_needs_its_secret_and_an_https_public_url(changes: dict, setting: str, problem: str) -> None:
    [finding] = service_findings(settings(service_name="analytics", **{**WEB_SIGN_IN, **changes}))
    assert finding.setting == setting and problem in finding.problem


def test_no_web_client_needs_no_client_secret() -> None:
    """Without a client id nobody signs in to the pages (bearer tokens still read them): nothing to check."""
    assert service_findings(settings(service_name="analytics", oidc_client_secret=None)) == []


@pytest.mark.parametrize(
    ("issuer", "problem"),
    [
        (None, "is not set"),
        ("http://login.uni.example", "not an https URL"),
        ("REPLACE-with-the-institution-issuer-https-url", "placeholder"),
        ("https://127.0.0.1:9000", "loopback"),
    ],
)
def test_an_issuer_must_be_configured_and_https(issuer: str | None, problem: str) -> None:
    values = {**SAFE, "oidc_issuer": issuer}
    findings = service_findings(ServiceSettings(service_name="m", pg_dsn="postgresql://x/y", **values))
    [finding] = findings
    assert finding.setting == "MENTORSHIP_OIDC_ISSUER" and problem in finding.problem


def test_a_database_password_left_as_the_template_placeholder_is_refused() -> None:
    [finding] = service_findings(settings(pg_dsn="postgresql://matching:REPLACE@matching-db:5432/matching"))
    assert finding.setting == "MENTORSHIP_PG_DSN" and "placeholder password" in finding.problem
    assert service_findings(settings(pg_dsn="postgresql://matching:Xq7-long@matching-db:5432/matching")) == []


def test_an_unauthenticated_broker_is_never_a_default(tmp_path: Path) -> None:
    [unset] = service_findings(settings(kafka_security_protocol=None, kafka_sasl_username=None))
    assert unset.setting == "MENTORSHIP_KAFKA_SECURITY_PROTOCOL" and "PLAINTEXT" in unset.problem
    assert named(service_findings(settings(kafka_sasl_username=None))) == ["MENTORSHIP_KAFKA_SASL_USERNAME"]
    assert named(service_findings(settings(kafka_sasl_password="REPLACE-with-the-SCRAM-password"))) == [
        "MENTORSHIP_KAFKA_SASL_PASSWORD"
    ]
    assert named(service_findings(settings(kafka_security_protocol="SSL"))) == ["MENTORSHIP_KAFKA_SSL_CERTFILE"]
    assert named(service_findings(settings(kafka_ssl_check_hostname=False))) == ["MENTORSHIP_KAFKA_SSL_CHECK_HOSTNAME"]
    missing = settings(kafka_ssl_cafile=str(tmp_path / "absent.pem"))
    assert named(service_findings(missing)) == ["MENTORSHIP_KAFKA_SSL_CAFILE"]
    (tmp_path / "ca.pem").write_text("a CA")
    assert service_findings(settings(kafka_ssl_cafile=str(tmp_path / "ca.pem"))) == []


@pytest.mark.parametrize(
    ("ring", "problem"),
    [
        (None, "is not set"),
        ("REPLACE-with-k1:<base64 32-byte key>", "placeholder"),  # the Kubernetes template
        ("k1:" + "QUJD", "must be 32 bytes"),  # a key that is too short
        ("k1:" + base64.urlsafe_b64encode(bytes(16)).decode(), "must be 32 bytes"),  # AES-128: too short too
        ("k1", "each key is written id:base64key"),
    ],
)
def test_relationships_needs_a_real_key_ring(ring: str | None, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if ring is not None:
        monkeypatch.setenv("MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS", ring)
    [finding] = relationships_findings()
    assert finding.setting == "MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS" and problem in finding.problem


def test_the_development_key_is_refused_under_any_id(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = base64.urlsafe_b64encode(_DEV_KEY).decode()  # the public key, as someone might copy it
    monkeypatch.setenv("MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS", f"k2:{new_key()},k1:{encoded}")
    [finding] = relationships_findings()
    assert "public development key" in finding.problem
    monkeypatch.setenv("MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS", f"k2:{new_key()},k1:{new_key()}")
    assert relationships_findings() == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.uni.example/notify", "not an https URL"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://127.0.0.1:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://10.20.30.40/hook", "private"),
        ("https://192.168.1.5/hook", "private"),
        ("https://localhost/hook", "this machine"),
        ("https://0.0.0.0/hook", "unspecified"),
    ],
)
def test_a_webhook_goes_over_https_to_a_public_host(url: str, problem: str) -> None:
    findings = NotificationsSettings(webhook_url=url, webhook_secret=SAFE_SECRET).webhook_findings()
    [finding] = findings
    assert finding.setting == "MENTORSHIP_NOTIFICATIONS_WEBHOOK_URL" and problem in finding.problem


def test_a_configured_webhook_needs_a_real_secret_and_no_webhook_needs_none() -> None:
    assert NotificationsSettings().webhook_findings() == []  # no URL: no webhook channel, nothing to sign
    url = "https://hooks.uni.example/notify"
    for secret, problem in (("", "is not set"), ("s3cret", "too short"), ("changeme" * 5, "placeholder")):
        [finding] = NotificationsSettings(webhook_url=url, webhook_secret=secret).webhook_findings()
        assert finding.setting == "MENTORSHIP_NOTIFICATIONS_WEBHOOK_SECRET" and problem in finding.problem
    assert NotificationsSettings(webhook_url=url, webhook_secret=SAFE_SECRET).webhook_findings() == []


def test_an_empty_webhook_secret_never_signs_or_verifies() -> None:
    body, timestamp = b'{"a":1}', "1700000000"
    forged = "sha256=" + hmac.new(b"", f"{timestamp}.".encode() + body, "sha256").hexdigest()
    assert not verify("", timestamp, body, forged)
    with pytest.raises(ValueError, match="empty"):
        sign("", timestamp, body)
    assert verify(SAFE_SECRET, timestamp, body, sign(SAFE_SECRET, timestamp, body))


def test_outside_development_mode_findings_refuse_and_in_it_make_one_warning_line() -> None:
    findings = service_findings(settings(jwt_secret=DEV_JWT_SECRET, oidc_issuer=None, dev_mode=True))
    with pytest.raises(UnsafeSettings) as refused:
        enforce(findings, dev_mode=False)
    assert refused.value.findings == findings
    line = enforce(findings, dev_mode=True)
    assert line is not None and "\n" not in line
    assert "MENTORSHIP_JWT_SECRET" in line and "MENTORSHIP_OIDC_ISSUER" in line
    assert enforce([], dev_mode=False) is None


# Real processes.


def run_service(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m services.<name>`` outside development mode: none of this session's ``MENTORSHIP_*`` (its
    ``MENTORSHIP_DEV_MODE=1`` among them) reaches it, only ``env``."""
    assert env.get("MENTORSHIP_DEV_MODE", "0") == "0", "these processes run outside development mode"
    base = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIP_")}
    return subprocess.run(
        [sys.executable, "-m", f"services.{name}"],
        cwd=ROOT,
        env={**base, "MENTORSHIP_PG_DSN": "postgresql://unused@127.0.0.1:1/unused", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


REFUSED = "refusing to start outside development mode"
"""What ``shared.serve`` says only outside development mode: in it the same findings are a warning."""


def test_a_service_started_on_development_defaults_outside_development_mode_exits_2_naming_each() -> None:
    result = run_service("relationships", {})  # no MENTORSHIP_DEV_MODE at all: off
    assert result.returncode == 2, result.stderr
    assert REFUSED in result.stderr and "Traceback" not in result.stderr
    for setting in (
        "MENTORSHIP_OIDC_ISSUER",
        "MENTORSHIP_OIDC_ROLE_MAP",
        "MENTORSHIP_KAFKA_SECURITY_PROTOCOL",
        "MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS",
    ):
        assert setting in result.stderr
    assert "MENTORSHIP_JWT_SECRET" not in result.stderr, "outside development mode it is never used"


def kubernetes_env(service: str) -> dict[str, str]:
    """The environment the Kubernetes manifests give ``service``, with the template Secret as generated."""
    docs = list(yaml.safe_load_all((K8S / "00-config.yaml").read_text()))
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    secret = next(d for d in docs if d["kind"] == "Secret")["stringData"]
    deployment = yaml.safe_load_all((K8S / f"20-{service}.yaml").read_text()).__next__()
    env = dict(config)
    for variable in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        env[variable["name"]] = variable.get("value") or secret[variable["valueFrom"]["secretKeyRef"]["key"]]
    return env


TEMPLATE_REFUSALS = [
    ("MENTORSHIP_OIDC_ISSUER", "placeholder"),
    ("MENTORSHIP_OIDC_ROLE_MAP", "has a placeholder group"),
    ("MENTORSHIP_KAFKA_SASL_PASSWORD", "placeholder"),
    ("MENTORSHIP_KAFKA_SSL_CAFILE", "names no readable file"),
    ("MENTORSHIP_PG_DSN", "has a placeholder password"),
]


@pytest.mark.parametrize(
    ("service", "own"),
    [
        ("relationships", [("MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS", "placeholder")]),
        (
            "analytics",
            [
                ("MENTORSHIP_OIDC_CLIENT_ID", "placeholder"),
                ("MENTORSHIP_OIDC_CLIENT_SECRET", "placeholder"),
                ("MENTORSHIP_PUBLIC_URL", "placeholder"),
            ],
        ),
    ],
)
def test_the_kubernetes_template_secret_is_refused(service: str, own: list[tuple[str, str]]) -> None:
    env = kubernetes_env(service)
    assert "MENTORSHIP_DEV_MODE" not in env and "MENTORSHIP_JWT_SECRET" not in env
    result = run_service(service, env)
    assert result.returncode == 2, result.stderr
    assert REFUSED in result.stderr
    for setting, problem in TEMPLATE_REFUSALS + own:
        assert f"{setting} is a {problem}" in result.stderr or f"{setting} {problem}" in result.stderr, setting
    assert "Traceback" not in result.stderr


def test_the_kubernetes_template_is_refused_for_the_portal_which_has_no_broker_to_name() -> None:
    """The portal on its manifest and the template Secret: its sign-in client, public URL and database placeholders
    are named; the broker's are not (it reaches none, so the manifest gives it no broker settings to fill in)."""
    env = kubernetes_env("portal")
    result = run_service("portal", env)
    assert result.returncode == 2, result.stderr
    assert REFUSED in result.stderr and "Traceback" not in result.stderr
    for setting in ("MENTORSHIP_OIDC_ISSUER", "MENTORSHIP_OIDC_ROLE_MAP", "MENTORSHIP_PG_DSN", "MENTORSHIP_PUBLIC_URL"):
        assert setting in result.stderr, setting
    assert "MENTORSHIP_OIDC_CLIENT_ID" in result.stderr and "MENTORSHIP_OIDC_CLIENT_SECRET" in result.stderr
    assert "MENTORSHIP_KAFKA" not in result.stderr


def safe_env() -> dict[str, str]:
    return {
        "MENTORSHIP_DEV_MODE": "0",
        "MENTORSHIP_JWT_SECRET": SAFE_SECRET,  # set by an operator out of habit: never used outside development mode
        "MENTORSHIP_OIDC_ISSUER": "https://login.uni.example",
        "MENTORSHIP_OIDC_ROLE_MAP": json.dumps(ROLE_MAP),
        "MENTORSHIP_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",  # the local broker, chosen explicitly
        "MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS": f"k1:{new_key()}",
    }


def test_a_single_unsafe_webhook_setting_stops_notifications() -> None:
    env = {**safe_env(), "MENTORSHIP_NOTIFICATIONS_WEBHOOK_URL": "http://169.254.169.254/hook"}
    result = run_service("notifications", env)
    assert result.returncode == 2, result.stderr
    assert REFUSED in result.stderr
    lines = result.stderr.strip().splitlines()[1:]
    assert [line.split()[0] for line in lines] == [
        "MENTORSHIP_NOTIFICATIONS_WEBHOOK_URL",
        "MENTORSHIP_NOTIFICATIONS_WEBHOOK_SECRET",
    ]


def test_development_mode_starts_with_one_warning_line_and_safe_settings_start_without(
    postgres: Postgres, broker: Broker, tmp_path: Path
) -> None:
    """Relationships in development mode (as the dev stack starts it) and analytics outside it with safe settings
    (its dashboard's sign-in configured), side by side: both answer /readyz (start_services waits for it).

    The issuer is a public https name that does not answer: a service fetches the provider's discovery document
    and keys when it first checks a token, not at start-up, so the start does not depend on it (and the check that
    demands a public https issuer is not weakened for a loopback test provider). That analytics really runs outside
    development mode shows in what it refuses: a token signed with the very secret it was given."""
    prefix = f"fs_{uuid.uuid4().hex[:8]}"
    production = {
        **safe_env(),
        "MENTORSHIP_OIDC_CLIENT_ID": WEB_SIGN_IN["oidc_client_id"],
        "MENTORSHIP_OIDC_CLIENT_SECRET": WEB_SIGN_IN["oidc_client_secret"],
        "MENTORSHIP_PUBLIC_URL": WEB_SIGN_IN["public_url"],
    }
    with start_services(
        postgres,
        broker.bootstrap,
        tmp_path,
        names=("relationships", "analytics"),
        database_prefix=prefix,
        extra_env={"MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS": "2000"},
        service_env_overrides={"analytics": production},
    ) as running:
        analytics = running["analytics"].url
        token = mint_token(SAFE_SECRET, "director", [Role.admin])
        refused = httpx.get(f"{analytics}/dashboard.json", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert refused.status_code == 401 and "only in development mode" in refused.json()["detail"]
        login = httpx.get(f"{analytics}/login", timeout=10)
        assert login.status_code == 200 and "Sign in" in login.text, "the client and its secret made it through"
    log = (tmp_path / "relationships.log").read_text()
    warnings = [line for line in log.splitlines() if "development mode (MENTORSHIP_DEV_MODE=1)" in line]
    assert len(warnings) == 1, log
    for setting in (
        "MENTORSHIP_JWT_SECRET",
        "MENTORSHIP_OIDC_ISSUER",
        "MENTORSHIP_OIDC_ROLE_MAP",
        "MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS",
    ):
        assert setting in warnings[0]
    assert "development mode" not in (tmp_path / "analytics.log").read_text()
    for service in ("relationships", "analytics"):
        postgres.drop_database(f"{prefix}_{service}")
