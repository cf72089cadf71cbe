"""The bearer tokens the operator commands (``replay``, ``republish``, ``hr import``) send to the services.

With ``MENTORSHIP_OIDC_ISSUER``, ``MENTORSHIP_CLI_CLIENT_ID`` and ``MENTORSHIP_CLI_CLIENT_SECRET`` set, the CLI is a
system of the institution: it takes an access token for each service from the provider with the client-credentials
grant (the audience from ``MENTORSHIP_OIDC_AUDIENCE`` as a resource indicator; ``MENTORSHIP_CLI_SCOPE`` if the
provider wants a scope, ``{audience}`` standing for the service's audience). Its roles are what the provider grants
that client. Without them it mints a development token, which services accept only in development mode.
"""

from __future__ import annotations

import os
import sys

from shared.roles import DEV_JWT_SECRET, Role, mint_token

DEFAULT_AUDIENCE = "urn:mentorship:{service}"


class CredentialsError(RuntimeError):
    """The provider could not be asked, or refused the client."""


def dev_mode() -> bool:
    return os.environ.get("MENTORSHIP_DEV_MODE", "").strip().lower() in ("1", "true", "yes", "on")


def audience_for(service: str) -> str:
    return os.environ.get("MENTORSHIP_OIDC_AUDIENCE", DEFAULT_AUDIENCE).replace("{service}", service)


def client_credentials(issuer: str, client_id: str, client_secret: str, audience: str, scope: str | None) -> str:
    """An access token for ``audience`` from ``issuer``'s token endpoint (client_secret_basic)."""
    import httpx  # here: a development token, the usual case, needs no HTTP client

    try:
        discovery = httpx.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=10)
        discovery.raise_for_status()
        form = {"grant_type": "client_credentials", "resource": audience}
        if scope:
            form["scope"] = scope.replace("{audience}", audience)
        response = httpx.post(
            discovery.json()["token_endpoint"], data=form, auth=(client_id, client_secret), timeout=10
        )
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise CredentialsError(f"cannot reach the OpenID Connect provider at {issuer}: {exc}") from None
    if response.status_code != 200:
        try:
            reason = response.json().get("error_description") or response.json().get("error")
        except ValueError:
            reason = response.text[:200]
        raise CredentialsError(f"the provider refused client {client_id!r}: {response.status_code} {reason}")
    return response.json()["access_token"]


def bearer_for(service: str, subject: str, roles: list[Role]) -> str:
    """A token for ``service``: the client-credentials grant when configured, else a development token
    for ``subject`` in ``roles`` (with a warning outside development mode)."""
    issuer = os.environ.get("MENTORSHIP_OIDC_ISSUER")
    client_id = os.environ.get("MENTORSHIP_CLI_CLIENT_ID")
    client_secret = os.environ.get("MENTORSHIP_CLI_CLIENT_SECRET")
    if issuer and client_id and client_secret:
        return client_credentials(
            issuer, client_id, client_secret, audience_for(service), os.environ.get("MENTORSHIP_CLI_SCOPE")
        )
    if issuer and not dev_mode():
        raise CredentialsError(
            "MENTORSHIP_OIDC_ISSUER is set but MENTORSHIP_CLI_CLIENT_ID and MENTORSHIP_CLI_CLIENT_SECRET are not:"
            " the operator commands need the CLI's client at the provider"
        )
    if not dev_mode():
        print(
            "note: no client credentials (MENTORSHIP_CLI_CLIENT_ID, _SECRET); sending a development token,"
            " which services accept only in development mode (MENTORSHIP_DEV_MODE=1)",
            file=sys.stderr,
        )
    return mint_token(os.environ.get("MENTORSHIP_JWT_SECRET", DEV_JWT_SECRET), subject, roles)
