"""One set of broker client options: aiokafka's and FastStream's are the same, built from MENTORSHIP_KAFKA_*."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faststream.kafka.security import parse_security

from shared.bus import BrokerAccess, new_admin, new_broker, new_consumer, new_producer
from shared.settings import BrokerSettings

pytestmark = pytest.mark.unit

CA = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")


def comparable(options: dict) -> dict:
    """The options with the SSL context replaced by what it checks (two contexts never compare equal)."""
    context = options.get("ssl_context")
    if context is None:
        return {**options, "ssl_context": None}
    return {**options, "ssl_context": (context.verify_mode, context.check_hostname)}


@pytest.mark.parametrize(
    "access",
    [
        BrokerAccess("k:9092"),
        BrokerAccess("k:9093", "SSL", ssl_cafile=str(CA)),
        BrokerAccess("k:9093", "SASL_SSL", ssl_cafile=str(CA), sasl_username="matching", sasl_password="pw"),
        BrokerAccess("k:9093", "SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-256", sasl_username="a", sasl_password="b"),
    ],
    ids=["plaintext", "ssl", "sasl-ssl-512", "sasl-plaintext-256"],
)
def test_faststream_gets_the_options_aiokafka_gets(access: BrokerAccess) -> None:
    options = access.client_options()
    assert options.pop("bootstrap_servers") == access.bootstrap
    from_faststream = parse_security(access.faststream_security()) or {"security_protocol": "PLAINTEXT"}
    assert comparable(from_faststream) == comparable(options)


def test_tls_verifies_the_broker_and_its_name_unless_told_otherwise() -> None:
    context = BrokerAccess("k:9093", "SSL", ssl_cafile=str(CA)).ssl_context()
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    unchecked = BrokerAccess("k:9093", "SSL", ssl_cafile=str(CA), ssl_check_hostname=False).ssl_context()
    assert unchecked is not None and unchecked.verify_mode == ssl.CERT_REQUIRED and not unchecked.check_hostname
    assert BrokerAccess("k:9092").ssl_context() is None


def test_settings_and_the_environment_give_the_same_access(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "MENTORSHIP_KAFKA_BOOTSTRAP": "kafka.kafka.svc:9093",
        "MENTORSHIP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "MENTORSHIP_KAFKA_SSL_CAFILE": str(CA),
        "MENTORSHIP_KAFKA_SASL_USERNAME": "analytics",
        "MENTORSHIP_KAFKA_SASL_PASSWORD": "a-long-scram-password",
    }.items():
        monkeypatch.setenv(key, value)
    access = BrokerAccess.of(BrokerSettings())
    assert access == BrokerAccess.from_env()
    assert BrokerAccess.from_env("other:9093") == BrokerAccess(**{**access.__dict__, "bootstrap": "other:9093"})
    assert access.client_options()["sasl_plain_password"] == "a-long-scram-password"
    assert "a-long-scram-password" not in repr(BrokerSettings()) + repr(access)  # never in a log line


async def test_every_client_kind_is_built_from_the_access() -> None:
    access = BrokerAccess("k:9093", "SASL_SSL", ssl_cafile=str(CA), sasl_username="u", sasl_password="p")
    producer, consumer, admin = new_producer(access), new_consumer(access, "t"), new_admin(access)
    for client in (producer.client, consumer._client, admin._client):
        assert (client._security_protocol, client._sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
        assert client._sasl_plain_username == "u" and client._ssl_context is not None
    connection = new_broker(access)._connection_kwargs  # what FastStream hands its aiokafka clients
    assert (connection["security_protocol"], connection["sasl_plain_username"]) == ("SASL_SSL", "u")
