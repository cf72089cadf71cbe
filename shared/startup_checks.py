"""Start-up checks: secrets and connections that fail safe.

A service process (``shared.serve``) gathers the findings of these checks before it builds anything.
Outside development mode (``MENTORSHIP_DEV_MODE=1``) any finding stops it: it exits with status 2 and
a message naming each setting and what is wrong with it. In development mode it starts and logs one
warning line listing the development defaults in use. Nothing here reads the network: a URL is judged
by what it says, not by what its name resolves to.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shared.settings import DEV_JWT_SECRET, BrokerSettings, ServiceSettings

MIN_SECRET_LENGTH = 32
"""Characters a shared secret must have at least (a token secret, a webhook secret)."""
MIN_PASSWORD_LENGTH = 16
PLACEHOLDERS = ("replace", "changeme", "change-me", "change_me", "dev-only", "devonly", "placeholder", "todo", "xxx")
"""A value that starts with one of these (in any case) was copied from a template and never filled in."""


@dataclass(frozen=True)
class Finding:
    setting: str
    problem: str

    def __str__(self) -> str:
        return f"{self.setting} {self.problem}"


class UnsafeSettings(Exception):
    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("; ".join(map(str, findings)))


def placeholder(value: str) -> str | None:
    """The template word ``value`` starts with, if it is a placeholder."""
    lowered = value.strip().lower()
    return next((word for word in PLACEHOLDERS if lowered.startswith(word)), None)


def secret(setting: str, value: str | None, *, development: str | None = None, min_length: int) -> list[Finding]:
    """At most one finding: empty, the public development value, a placeholder, or too short."""
    if not value:
        return [Finding(setting, "is not set")]
    if development is not None and value == development:
        return [Finding(setting, "is the public development value")]
    if word := placeholder(value):
        return [Finding(setting, f"is a placeholder (starts with {word!r})")]
    if len(value) < min_length:
        return [Finding(setting, f"is too short ({len(value)} characters, at least {min_length})")]
    return []


def public_https_url(setting: str, url: str) -> list[Finding]:
    """An ``https`` URL whose host is a name or a public address: not loopback, link-local, private,
    unspecified or multicast (a name that resolves to one of those is not caught here)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return [Finding(setting, f"is not an https URL ({parts.scheme or 'no scheme'}://)")]
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return [Finding(setting, "names no host")]
    if host == "localhost" or host.endswith(".localhost"):
        return [Finding(setting, f"points at this machine ({host})")]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return []
    for kind, test in (
        ("a loopback", address.is_loopback),
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a private", address.is_private),
        ("a multicast", address.is_multicast),
        ("a reserved", address.is_reserved),
    ):
        if test:
            return [Finding(setting, f"points at {kind} address ({address})")]
    return []


def service_findings(settings: ServiceSettings, *, uses_broker: bool = True) -> list[Finding]:
    """What every service checks: the sign-in issuer and how its claims become roles, the web sign-in's client
    (where one is configured), the database password (a template's placeholder only: the database itself judges
    the rest) and the broker connection (``uses_broker=False``: a service without one, the portal).

    The development token secret (``MENTORSHIP_JWT_SECRET``) is looked at only in development mode, the only
    mode in which a service uses it (``shared.auth``): there it shows in the warning line. Outside it HS256
    tokens are refused whatever the secret says, so a deployment is never asked for one."""
    findings: list[Finding] = []
    if settings.dev_mode:
        findings += secret(
            "MENTORSHIP_JWT_SECRET", settings.jwt_secret, development=DEV_JWT_SECRET, min_length=MIN_SECRET_LENGTH
        )
    database_password = urlsplit(settings.pg_dsn).password
    if database_password and (word := placeholder(database_password)):
        findings.append(Finding("MENTORSHIP_PG_DSN", f"has a placeholder password (starts with {word!r})"))
    if not settings.oidc_issuer:
        findings.append(Finding("MENTORSHIP_OIDC_ISSUER", "is not set (no institutional sign-in)"))
    elif word := placeholder(settings.oidc_issuer):
        findings.append(Finding("MENTORSHIP_OIDC_ISSUER", f"is a placeholder (starts with {word!r})"))
    else:
        findings += public_https_url("MENTORSHIP_OIDC_ISSUER", settings.oidc_issuer)
    return (
        findings
        + role_map_findings(settings)
        + web_sign_in_findings(settings)
        + key_source_findings(settings)
        + (broker_findings(settings) if uses_broker else [])
    )


def key_source_findings(settings: ServiceSettings) -> list[Finding]:
    """A consumer that opens another service's personal fields (``MENTORSHIP_KEY_SOURCES``) asks it for keys as a
    system of the institution: it needs its own client at the provider (a development token is refused outside
    development mode) and URLs it can reach (inside the deployment's network, which its policies close)."""
    if not settings.key_sources:
        return []
    findings: list[Finding] = []
    if not settings.service_client_id:
        findings.append(Finding("MENTORSHIP_SERVICE_CLIENT_ID", "is not set (needed with MENTORSHIP_KEY_SOURCES)"))
    elif word := placeholder(settings.service_client_id):
        findings.append(Finding("MENTORSHIP_SERVICE_CLIENT_ID", f"is a placeholder (starts with {word!r})"))
    client_secret = settings.service_client_secret.get_secret_value() if settings.service_client_secret else None
    if not client_secret:
        findings.append(Finding("MENTORSHIP_SERVICE_CLIENT_SECRET", "is not set (needed with MENTORSHIP_KEY_SOURCES)"))
    elif word := placeholder(client_secret):
        findings.append(Finding("MENTORSHIP_SERVICE_CLIENT_SECRET", f"is a placeholder (starts with {word!r})"))
    for producer, urls in settings.key_sources.items():
        for url in (u.strip() for u in urls.split(",") if u.strip()):
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                findings.append(Finding("MENTORSHIP_KEY_SOURCES", f"{producer}: {url!r} is not an http(s) URL"))
            elif word := placeholder(url):
                findings.append(Finding("MENTORSHIP_KEY_SOURCES", f"{producer}: a placeholder (starts with {word!r})"))
    return findings


def role_map_findings(settings: ServiceSettings) -> list[Finding]:
    """The map from the roles claim to platform roles must be the institution's own: with none, any group the
    provider happens to call ``admin`` would make its members the program's director."""
    if not settings.oidc_role_map:
        return [
            Finding(
                "MENTORSHIP_OIDC_ROLE_MAP",
                f"is not set: values of the {settings.oidc_roles_claim!r} claim named like a role (admin, mentor, …)"
                " would give that role; map the institution's groups explicitly",
            )
        ]
    words = [word for group in settings.oidc_role_map if (word := placeholder(group))]
    if words:
        return [Finding("MENTORSHIP_OIDC_ROLE_MAP", f"has a placeholder group (starts with {words[0]!r})")]
    return []


def web_sign_in_findings(settings: ServiceSettings) -> list[Finding]:
    """The web pages' sign-in (``shared.web_signin``; analytics' dashboard), once a client id is configured: a
    real client secret (without one nobody can sign in), and a public URL, where set, that is https: the
    provider sends the authorization code to it and the session cookie is Secure."""
    findings: list[Finding] = []
    if settings.oidc_client_id:
        if word := placeholder(settings.oidc_client_id):
            findings.append(Finding("MENTORSHIP_OIDC_CLIENT_ID", f"is a placeholder (starts with {word!r})"))
        if not settings.oidc_client_secret:
            findings.append(
                Finding("MENTORSHIP_OIDC_CLIENT_SECRET", "is not set (needed with MENTORSHIP_OIDC_CLIENT_ID)")
            )
        elif word := placeholder(settings.oidc_client_secret):
            findings.append(Finding("MENTORSHIP_OIDC_CLIENT_SECRET", f"is a placeholder (starts with {word!r})"))
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if word := placeholder(settings.public_url):
            findings.append(Finding("MENTORSHIP_PUBLIC_URL", f"is a placeholder (starts with {word!r})"))
        elif parts.scheme != "https":
            findings.append(Finding("MENTORSHIP_PUBLIC_URL", f"is not an https URL ({parts.scheme or 'no scheme'}://)"))
        elif not parts.hostname:
            findings.append(Finding("MENTORSHIP_PUBLIC_URL", "names no host"))
    return findings


def broker_findings(settings: BrokerSettings) -> list[Finding]:
    """An unauthenticated broker connection must be chosen explicitly, never fallen into by default."""
    protocol = settings.kafka_security_protocol
    findings: list[Finding] = []
    if "kafka_security_protocol" not in settings.model_fields_set:
        findings.append(
            Finding(
                "MENTORSHIP_KAFKA_SECURITY_PROTOCOL",
                "is not set (PLAINTEXT: no TLS, no authentication): set SASL_SSL, or PLAINTEXT explicitly"
                " for a broker only this host reaches",
            )
        )
    if protocol.startswith("SASL_"):
        if not settings.kafka_sasl_username:
            findings.append(Finding("MENTORSHIP_KAFKA_SASL_USERNAME", f"is not set (needed for {protocol})"))
        password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
        findings += secret("MENTORSHIP_KAFKA_SASL_PASSWORD", password, min_length=MIN_PASSWORD_LENGTH)
    if protocol == "SSL" and not settings.kafka_ssl_certfile:
        findings.append(
            Finding("MENTORSHIP_KAFKA_SSL_CERTFILE", "is not set: SSL without a client certificate proves nothing")
        )
    if protocol.endswith("SSL"):
        if not settings.kafka_ssl_check_hostname:
            findings.append(Finding("MENTORSHIP_KAFKA_SSL_CHECK_HOSTNAME", "is off: any certificate of the CA passes"))
        for setting, path in (
            ("MENTORSHIP_KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile),
            ("MENTORSHIP_KAFKA_SSL_CERTFILE", settings.kafka_ssl_certfile),
            ("MENTORSHIP_KAFKA_SSL_KEYFILE", settings.kafka_ssl_keyfile),
        ):
            if path and not Path(path).is_file():
                findings.append(Finding(setting, f"names no readable file ({path})"))
    return findings


def enforce(findings: list[Finding], *, dev_mode: bool) -> str | None:
    """Raise ``UnsafeSettings`` outside development mode; in it, the warning line to log (None: all safe)."""
    if not findings:
        return None
    if not dev_mode:
        raise UnsafeSettings(findings)
    return "development mode (MENTORSHIP_DEV_MODE=1), development defaults in use: " + "; ".join(map(str, findings))
