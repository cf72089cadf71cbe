"""The deployment files describe the platform as deployments need: Kafka in KRaft mode
keeping events forever, one Postgres per service, every service its own healthy container, the portal
beside them without the broker, and an image that carries htmx from the lockfile."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mentorship.stack import PORTAL, PORTAL_CALLS

yaml = pytest.importorskip("yaml", reason="pyyaml is not installed (it belongs in the dev extras)")

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
SERVICES = {"profiles": 8001, "matching": 8002, "relationships": 8003, "notifications": 8004, "analytics": 8005}
"""The services on the broker, with their host ports; the portal (8006) reaches none."""
WITH_DATABASE = [*SERVICES, PORTAL]
SIGNS_PEOPLE_IN = {"analytics", PORTAL}
DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")
REQUIRED = re.compile(r"\$\{(\w+):\?([^}]*)\}")
REQUIRED_SECRETS = {
    "MENTORSHIP_OIDC_ISSUER": "https://login.uni.example",
    "MENTORSHIP_OIDC_ROLE_MAP": '{"mentoring-directors": "admin"}',
    "MENTORSHIP_OIDC_CLIENT_ID": "mentorship-dashboard",
    "MENTORSHIP_OIDC_CLIENT_SECRET": "s" * 40,
    "MENTORSHIP_PUBLIC_URL": "https://dashboard.uni.example",
    "MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS": "k1:" + "A" * 43,
    "MENTORSHIP_PG_PASSWORD": "p" * 24,
    "MENTORSHIP_MATCHING_SERVICE_CLIENT_ID": "mentorship-matching",
    "MENTORSHIP_MATCHING_SERVICE_CLIENT_SECRET": "m" * 40,
    "MENTORSHIP_NOTIFICATIONS_SERVICE_CLIENT_ID": "mentorship-notifications",
    "MENTORSHIP_NOTIFICATIONS_SERVICE_CLIENT_SECRET": "n" * 40,
    "MENTORSHIP_ANALYTICS_SERVICE_CLIENT_ID": "mentorship-analytics",
    "MENTORSHIP_ANALYTICS_SERVICE_CLIENT_SECRET": "a" * 40,
    "MENTORSHIP_PORTAL_OIDC_CLIENT_ID": "mentorship-portal",
    "MENTORSHIP_PORTAL_OIDC_CLIENT_SECRET": "q" * 40,
    "MENTORSHIP_PORTAL_PUBLIC_URL": "https://mentoring.uni.example",
}


def with_defaults(value: Any) -> str:
    """The value compose would use with none of the ``${VAR:-default}`` variables set (a required
    ``${VAR:?message}`` stands as ``required``)."""
    return REQUIRED.sub("required", DEFAULT.sub(lambda m: m.group(2), str(value)))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def kafka(services: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    found = [(name, s) for name, s in services.items() if str(s.get("image", "")).startswith("apache/kafka")]
    assert len(found) == 1, "exactly one apache/kafka service"
    return found[0]


def own_database_host(service: dict[str, Any]) -> str:
    host = urlsplit(with_defaults(environment(service)["MENTORSHIP_PG_DSN"])).hostname
    assert host
    return host


def test_kafka_runs_in_kraft_mode_without_zookeeper(services: dict[str, dict[str, Any]]) -> None:
    name, broker = kafka(services)
    env = environment(broker)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@{name}:9093"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in env["KAFKA_LISTENERS"]
    assert env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["CLUSTER_ID"]
    assert "zookeeper" not in COMPOSE_FILE.read_text().lower()


def test_kafka_keeps_events_forever_and_leaves_topic_creation_to_services(
    services: dict[str, dict[str, Any]],
) -> None:
    env = environment(kafka(services)[1])
    assert env["KAFKA_LOG_RETENTION_MS"] == "-1"
    assert env.get("KAFKA_LOG_RETENTION_BYTES", "-1") == "-1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_its_own_module(services: dict[str, dict[str, Any]], name: str) -> None:
    service = services[name]
    assert service["command"] == ["python", "-m", f"services.{name}"]
    assert (REPO / "services" / name / "__main__.py").is_file()
    assert "build" in service
    assert "container_name" not in service, "a fixed container name stops --scale"
    assert service["deploy"]["replicas"] == 1


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_configured_for_the_container_network(services: dict[str, dict[str, Any]], name: str) -> None:
    env = environment(services[name])
    broker_name = kafka(services)[0]
    assert env["MENTORSHIP_HTTP_HOST"] == "0.0.0.0"
    assert env["MENTORSHIP_HTTP_PORT"] == "8000"
    assert env["MENTORSHIP_KAFKA_BOOTSTRAP"].split(":")[0] == broker_name
    assert "MENTORSHIP_JWT_SECRET" not in env, "development tokens only: a deployment never needs their secret"
    assert env["MENTORSHIP_OIDC_ISSUER"].startswith("${MENTORSHIP_OIDC_ISSUER:?")
    assert env["MENTORSHIP_OIDC_ROLE_MAP"].startswith("${MENTORSHIP_OIDC_ROLE_MAP:?"), "the institution's own map"
    assert with_defaults(env["MENTORSHIP_OIDC_AUDIENCE"]) == f"urn:mentorship:{name}", "the settings' default"
    assert with_defaults(env["MENTORSHIP_OIDC_SUBJECT_CLAIM"]) == "sub"
    assert with_defaults(env["MENTORSHIP_OIDC_ROLES_CLAIM"]) == "groups"
    assert int(with_defaults(env["MENTORSHIP_TOKEN_MAX_LIFETIME_SECONDS"])) == 43200
    assert env["MENTORSHIP_KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT", "chosen explicitly, for a loopback-only broker"
    assert "MENTORSHIP_DEV_MODE" not in env
    assert "MENTORSHIP_SERVICE_NAME" not in env, "the entry point sets it"
    assert [with_defaults(p) for p in services[name]["ports"]] == [f"{SERVICES[name]}:8000"]


def test_only_analytics_and_the_portal_sign_people_in_each_with_its_own_client_and_https_url(
    services: dict[str, dict[str, Any]],
) -> None:
    clients = {}
    for name in [*SERVICES, PORTAL]:
        env = environment(services[name])
        sign_in = {k for k in env if k.startswith(("MENTORSHIP_OIDC_CLIENT_", "MENTORSHIP_PUBLIC_URL"))}
        if name not in SIGNS_PEOPLE_IN:
            assert sign_in == set(), name
            continue
        assert sign_in == {"MENTORSHIP_OIDC_CLIENT_ID", "MENTORSHIP_OIDC_CLIENT_SECRET", "MENTORSHIP_PUBLIC_URL"}
        assert all(with_defaults(env[k]) == "required" for k in sign_in)
        clients[name] = (env["MENTORSHIP_OIDC_CLIENT_ID"], env["MENTORSHIP_PUBLIC_URL"])
        assert with_defaults(env["MENTORSHIP_OIDC_SCOPES"]) == "openid profile"
        assert "FORWARDED_ALLOW_IPS" in env, "uvicorn trusts X-Forwarded-Proto only from the TLS proxy named here"
    assert clients["analytics"] != clients[PORTAL] and clients[PORTAL][0].startswith("${MENTORSHIP_PORTAL_OIDC_")


def test_the_portal_reaches_no_broker_and_calls_the_services_on_the_compose_network(
    services: dict[str, dict[str, Any]],
) -> None:
    portal = services[PORTAL]
    env = environment(portal)
    assert portal["command"] == ["python", "-m", "services.portal"]
    assert "build" in portal and "container_name" not in portal
    assert [with_defaults(p) for p in portal["ports"]] == ["8006:8000"]
    assert not [k for k in env if k.startswith("MENTORSHIP_KAFKA_") or k == "MENTORSHIP_TOPIC_PARTITIONS"]
    assert "MENTORSHIP_MAX_EVENT_BYTES" not in env and "MENTORSHIP_DEV_MODE" not in env
    assert "MENTORSHIP_PORTAL_DEV_MAIL_URL" not in env, "the mail sink's view is development only"
    # one audience per called service: the default template, never one service's audience
    assert "{service}" in with_defaults(env.get("MENTORSHIP_OIDC_AUDIENCE", "urn:mentorship:{service}"))
    assert env["MENTORSHIP_OIDC_ISSUER"].startswith("${MENTORSHIP_OIDC_ISSUER:?")
    assert env["MENTORSHIP_OIDC_ROLE_MAP"].startswith("${MENTORSHIP_OIDC_ROLE_MAP:?")
    assert (env["MENTORSHIP_HTTP_HOST"], env["MENTORSHIP_HTTP_PORT"]) == ("0.0.0.0", "8000")
    for name in PORTAL_CALLS:
        assert env[f"MENTORSHIP_PORTAL_{name.upper()}_URL"] == f"http://{name}:8000"
        assert portal["depends_on"][name]["condition"] in {"service_started", "service_healthy"}
    assert set(portal["depends_on"]) == {*PORTAL_CALLS, own_database_host(portal)}
    assert portal["depends_on"][own_database_host(portal)]["condition"] == "service_healthy"
    assert env["MENTORSHIP_PORTAL_DASHBOARD_URL"].startswith("${MENTORSHIP_PUBLIC_URL:?")
    assert env["MENTORSHIP_PORTAL_DASHBOARD_URL"].endswith("}/dashboard"), "where browsers reach analytics' dashboard"


def test_no_secret_has_a_default_and_the_broker_is_published_on_loopback_only(
    services: dict[str, dict[str, Any]],
) -> None:
    text = COMPOSE_FILE.read_text()
    for name in REQUIRED_SECRETS:
        assert f"${{{name}:?" in text and f"${{{name}:-" not in text, name
    assert "dev-only" not in text and "MENTORSHIP_JWT_SECRET:" not in text
    relationships = environment(services["relationships"])
    assert relationships["MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS"].startswith(
        "${MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS:?"
    )
    for port in kafka(services)[1]["ports"]:
        assert str(port).startswith("127.0.0.1:"), port


def test_each_service_has_its_own_postgres(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    hosts = {name: own_database_host(services[name]) for name in WITH_DATABASE}
    assert len(set(hosts.values())) == len(WITH_DATABASE), hosts
    volumes = set()
    for name, host in hosts.items():
        database = services[host]
        assert str(database["image"]).startswith("postgres:16")
        assert environment(database)["POSTGRES_DB"] == name
        assert urlsplit(with_defaults(environment(services[name])["MENTORSHIP_PG_DSN"])).path == f"/{name}"
        [mount] = [v for v in database["volumes"] if v.endswith(":/var/lib/postgresql/data")]
        volume = mount.split(":")[0]
        assert volume in compose["volumes"]
        volumes.add(volume)
    assert len(volumes) == len(WITH_DATABASE)


def test_every_container_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name
    for name in WITH_DATABASE:
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_waits_for_healthy_kafka_and_database(services: dict[str, dict[str, Any]], name: str) -> None:
    depends_on = services[name]["depends_on"]
    assert set(depends_on) == {kafka(services)[0], own_database_host(services[name])}
    assert all(d["condition"] == "service_healthy" for d in depends_on.values())


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines if line and not line.startswith("#")
    ]


def stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for kind, arg in instructions:
        if kind == "FROM":
            found.append([])
        found[-1].append((kind, arg))
    return found


def test_dockerfile_installs_the_project_and_runs_as_non_root() -> None:
    instructions = stages(dockerfile_instructions())[-1]  # the image: its last stage
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert any(kind == "RUN" and "pip install --no-cache-dir ." in arg for kind, arg in instructions)
    users = [arg for kind, arg in instructions if kind == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert ("EXPOSE", "8000") in instructions
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".git"} <= set(ignored)


def test_the_image_carries_htmx_from_the_lockfile_where_the_portal_serves_it() -> None:
    """An npm stage installs from package.json and its lockfile (``npm ci``); the image takes htmx's one file from
    it, where ``MENTORSHIP_PORTAL_HTMX_FILE`` points. Nothing is fetched from a URL (no CDN); the host's
    node_modules never enters the build context."""
    text = (REPO / "Dockerfile").read_text()
    *builders, image = stages(dockerfile_instructions())
    [npm] = [s for s in builders if any(kind == "RUN" and arg.startswith("npm ci") for kind, arg in s)]
    name = npm[0][1].split()[-1]
    assert npm[0][1].split()[-2].upper() == "AS"
    assert ("COPY", "package.json package-lock.json ./") in npm
    assert "htmx.org" in (REPO / "package.json").read_text() and "--omit=dev" in text
    [copied] = [arg for kind, arg in image if kind == "COPY" and arg.startswith(f"--from={name} ")]
    *sources, target = copied.split()[1:]
    assert [s for s in sources if s.endswith("/node_modules/htmx.org/dist/htmx.min.js")]
    [env] = [arg for kind, arg in image if kind == "ENV" and "MENTORSHIP_PORTAL_HTMX_FILE=" in arg]
    served = re.search(r"MENTORSHIP_PORTAL_HTMX_FILE=(\S+)", env).group(1)
    assert served == target.rstrip("/") + "/htmx.min.js"
    assert not re.search(r"https?://", text.replace("http://127.0.0.1:8000/", "")), "nothing from the network"
    assert "node_modules" in (REPO / ".dockerignore").read_text().split()


def compose_cli() -> list[str] | None:
    if shutil.which("docker"):
        plugin = subprocess.run(["docker", "compose", "version"], check=False, capture_output=True, timeout=30)
        if plugin.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.parametrize("scaled", [{}, {"MATCHING_HOST_PORTS": "8020-8029"}], ids=["default", "port-range"])
def test_compose_validates_its_own_file(scaled: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("neither the docker compose plugin nor docker-compose is installed")
    for key, value in {**REQUIRED_SECRETS, **scaled}.items():
        monkeypatch.setenv(key, value)
    result = compose_config(cli)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", REQUIRED_SECRETS)
def test_compose_refuses_to_run_without_each_secret(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("neither the docker compose plugin nor docker-compose is installed")
    for key, value in REQUIRED_SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(missing)
    result = compose_config(cli)
    assert result.returncode != 0 and f"set {missing}" in result.stderr, result.stderr


def compose_config(cli: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli, "-f", str(COMPOSE_FILE), "config", "-q"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
