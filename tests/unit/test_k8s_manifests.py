"""The Kubernetes manifests in deploy/k8s: fresh, and consistent with each other and with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from deploy.k8s.generate import DEPLOYED, HERE, INGRESS_ADDRESSES, SERVICE_SETTINGS, render
from mentorship.stack import PORTAL, PORTAL_CALLS, SERVICE_CALLS
from shared.bus import SERVICES, all_event_topics, dead_letter_topic

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return [d for f in sorted(HERE.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_checked_in_manifests_are_fresh() -> None:
    stale = [name for name, text in render().items() if (HERE / name).read_text() != text]
    assert stale == [], "run: python -m deploy.k8s.generate"


def test_every_object_is_well_formed(docs) -> None:
    api_versions = {
        "Namespace": "v1",
        "ConfigMap": "v1",
        "Secret": "v1",
        "Service": "v1",
        "Job": "batch/v1",
        "Deployment": "apps/v1",
        "HorizontalPodAutoscaler": "autoscaling/v2",
        "NetworkPolicy": "networking.k8s.io/v1",
        "Ingress": "networking.k8s.io/v1",
    }
    for doc in docs:
        assert doc["apiVersion"] == api_versions[doc["kind"]], doc["kind"]
        assert DNS_LABEL.match(doc["metadata"]["name"])
        if doc["kind"] == "NetworkPolicy":  # also in the broker's and the databases' namespaces
            assert doc["metadata"]["namespace"] in {"mentorship", "kafka", "databases"}
        elif doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "mentorship"


def test_each_service_has_deployment_service_and_autoscaler(docs) -> None:
    deployments, services, hpas = (of_kind(docs, k) for k in ("Deployment", "Service", "HorizontalPodAutoscaler"))
    assert set(deployments) == set(services) == set(hpas) == set(SERVICES) | {PORTAL} == set(DEPLOYED)
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        pod_labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"] == pod_labels == services[name]["spec"]["selector"]
        [container] = spec["template"]["spec"]["containers"]
        [migrate] = spec["template"]["spec"]["initContainers"]
        assert container["command"] == ["python", "-m", f"services.{name}"]
        assert migrate["command"] == ["python", "-m", f"services.{name}", "--migrate-only"]
        assert (ROOT / "services" / name / "__main__.py").exists()
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert spec["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        hpa = hpas[name]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["minReplicas"] <= spec["replicas"] <= hpa["maxReplicas"]


def test_ingress_body_limits_are_the_services_own(docs) -> None:
    from services.profiles.bootstrap import build_app as profiles_app
    from shared.limits import BULK_BODY_BYTES, BULK_ROUTES, MIB
    from shared.settings import ServiceSettings

    ingresses = of_kind(docs, "Ingress")
    [config] = of_kind(docs, "ConfigMap").values()
    default = ServiceSettings.model_fields["http_max_body_bytes"].default
    assert int(config["data"]["MENTORSHIP_HTTP_MAX_BODY_BYTES"]) == default
    size = "nginx.ingress.kubernetes.io/proxy-body-size"
    for service in DEPLOYED:
        assert ingresses[service]["metadata"]["annotations"][size] == f"{default // MIB}m"
        [rule] = ingresses[service]["spec"]["rules"]
        assert [p["backend"]["service"]["name"] for p in rule["http"]["paths"]] == [service]
    assert {n for n in ingresses if n.endswith("-bulk")} == {f"{s}-bulk" for s in BULK_ROUTES}
    for service, prefixes in BULK_ROUTES.items():
        bulk = ingresses[f"{service}-bulk"]
        assert bulk["metadata"]["annotations"][size] == f"{BULK_BODY_BYTES // MIB}m"
        assert [p["path"] for p in bulk["spec"]["rules"][0]["http"]["paths"]] == list(prefixes)
    paths = profiles_app(ServiceSettings(service_name="profiles", pg_dsn="postgresql://u/u")).openapi()["paths"]
    assert all(any(path.startswith(prefix) for path in paths) for prefix in BULK_ROUTES["profiles"])


def test_referenced_config_and_secret_keys_exist(docs) -> None:
    [config] = of_kind(docs, "ConfigMap").values()
    [secret] = of_kind(docs, "Secret").values()
    dsn_keys = set()
    for deployment in of_kind(docs, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"] + pod["initContainers"]:
            assert [e["configMapRef"]["name"] for e in container["envFrom"]] == [config["metadata"]["name"]]
            for variable in container["env"]:
                if "value" in variable:  # the broker principal (the service's name); analytics' sign-in: no secrets
                    name = deployment_name(pod)
                    expected = {"MENTORSHIP_KAFKA_SASL_USERNAME": name, **SERVICE_SETTINGS.get(name, {})}
                    assert variable["value"] == expected[variable["name"]]
                    continue
                ref = variable["valueFrom"]["secretKeyRef"]
                assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
                if variable["name"] == "MENTORSHIP_PG_DSN":
                    dsn_keys.add(ref["key"])
    assert len(dsn_keys) == len(DEPLOYED)  # a database per service, and the portal's for its sessions


def deployment_name(pod: dict) -> str:
    return pod["containers"][0]["name"]


def test_services_take_the_institutions_tokens_and_no_token_secret(docs) -> None:
    """Outside development mode only the provider's tokens count: no Deployment gets a token secret, every one
    the sign-in settings (the role map a template to fill in); analytics its web client and public URL."""
    [config] = of_kind(docs, "ConfigMap").values()
    [secret] = of_kind(docs, "Secret").values()
    data = config["data"]
    assert not any("jwt" in key for key in secret["stringData"])
    assert data["MENTORSHIP_OIDC_AUDIENCE"] == "urn:mentorship:{service}"
    assert (data["MENTORSHIP_OIDC_SUBJECT_CLAIM"], data["MENTORSHIP_OIDC_ROLES_CLAIM"]) == ("sub", "groups")
    role_map = json.loads(data["MENTORSHIP_OIDC_ROLE_MAP"])
    assert set(role_map.values()) == {"admin", "analyst", "mentor", "mentee", "hr-integration", "service"}
    assert all(group.startswith("REPLACE") for group in role_map)
    assert int(data["MENTORSHIP_TOKEN_MAX_LIFETIME_SECONDS"]) == 43200
    assert data["FORWARDED_ALLOW_IPS"] == INGRESS_ADDRESSES
    for name, deployment in of_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"] + pod["initContainers"]:
            env = {v["name"]: v for v in container["env"]}
            assert "MENTORSHIP_JWT_SECRET" not in env and "MENTORSHIP_DEV_MODE" not in env
            sign_in = {k for k in env if k.startswith(("MENTORSHIP_OIDC_CLIENT_", "MENTORSHIP_PUBLIC_URL"))}
            if name not in {"analytics", PORTAL}:
                assert sign_in == set(), name
                continue
            assert sign_in == {"MENTORSHIP_OIDC_CLIENT_ID", "MENTORSHIP_OIDC_CLIENT_SECRET", "MENTORSHIP_PUBLIC_URL"}
            client_secret = env["MENTORSHIP_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["key"]
            assert client_secret in secret["stringData"] and client_secret == f"{name}-oidc-client-secret"
    assert "MENTORSHIP_DEV_MODE" not in data


def test_network_policies_let_in_only_the_ingress_and_reach_only_what_each_service_needs(docs) -> None:
    policies = of_kind(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert deny["ingress"] == [] and deny["egress"] == []
    for service in DEPLOYED:
        spec = policies[service]["spec"]
        rule, *callers = spec["ingress"]
        sources = {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in rule["from"]}
        assert sources == {"ingress-nginx", "monitoring"} and rule["ports"] == [{"protocol": "TCP", "port": 8000}]
        # the consumers that open its personal fields ask it for keys (shared.keysource), analytics asks profiles
        # for demographic aggregates, the portal calls its API as the signed-in person, and only they
        consumers = {c for c, called in SERVICE_CALLS.items() if service in called}
        assert {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for r in callers for p in r["from"]} == (
            consumers | ({PORTAL} if service in PORTAL_CALLS else set())
        )
        reached = {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for r in spec["egress"]
            for peer in r["to"]
            if "podSelector" in peer and "namespaceSelector" not in peer
        }
        assert reached == set(PORTAL_CALLS if service == PORTAL else SERVICE_CALLS.get(service, ()))
        assert service != "analytics" or reached == {"profiles"}, "analytics reaches profiles' aggregates only"
        broker = [r for r in spec["egress"] if any(namespace_of(peer) == "kafka" for peer in r["to"])]
        assert len(broker) == (0 if service == PORTAL else 1), "the portal reaches no broker"
        https = [r for r in spec["egress"] if {"protocol": "TCP", "port": 443} in r["ports"]]
        assert https, "the provider (its keys; the sign-ins' and key clients' token endpoint)"
        databases = [
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for r in spec["egress"]
            for peer in r["to"]
            if peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "databases"
        ]
        assert databases == [f"{service}-db"], "a service reaches its own database only"
        [db_policy] = [p for p in policies.values() if p["metadata"]["name"] == f"{service}-db-from-{service}"]
        [from_rule] = db_policy["spec"]["ingress"]
        assert from_rule["from"][0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": service}
    broker = policies["kafka-from-mentorship"]
    assert broker["metadata"]["namespace"] == "kafka"


def namespace_of(peer: dict) -> str | None:
    return peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")


def test_services_reach_the_broker_over_sasl_ssl_as_their_own_principal(docs) -> None:
    [config] = of_kind(docs, "ConfigMap").values()
    data = config["data"]
    assert data["MENTORSHIP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["MENTORSHIP_KAFKA_SASL_MECHANISM"].startswith("SCRAM-SHA-")
    for name, deployment in of_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        env = {v["name"] for c in pod["containers"] + pod["initContainers"] for v in c["env"]}
        if name == PORTAL:  # no broker: no principal, no password, no CA
            assert "volumes" not in pod and not {v for v in env if v.startswith("MENTORSHIP_KAFKA_")}
            continue
        assert {"MENTORSHIP_KAFKA_SASL_USERNAME", "MENTORSHIP_KAFKA_SASL_PASSWORD"} <= env
        [volume] = pod["volumes"]
        [mount] = pod["containers"][0]["volumeMounts"]
        assert data["MENTORSHIP_KAFKA_SSL_CAFILE"] == f"{mount['mountPath']}/{volume['secret']['items'][0]['path']}"


def test_topic_job_creates_every_topic_with_retention_forever(docs) -> None:
    [job] = of_kind(docs, "Job").values()
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    for topic in all_event_topics() + [dead_letter_topic(s) for s in SERVICES]:
        assert f"--topic {topic} " in script
    assert script.count("--command-config /tmp/admin.properties") == script.count("--create")
    assert "security.protocol=SASL_SSL" in script
    assert script.count("retention.ms=-1") == script.count("--create")


def test_grafana_dashboard_is_fresh_and_uses_only_real_metrics() -> None:
    from prometheus_client.metrics import MetricWrapperBase

    from deploy.grafana.generate import DASHBOARD, dashboard
    from deploy.grafana.generate import render as render_dashboard
    from shared import metrics

    assert DASHBOARD.read_text() == render_dashboard(), "run: python -m deploy.grafana.generate"
    families = [f.name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase) for f in m.describe()]
    known = {family + suffix for family in families for suffix in ("", "_total", "_bucket", "_count", "_sum")}
    used = {
        name
        for panel in dashboard()["panels"]
        for name in re.findall(r"mentorship_[a-z_]+", panel["targets"][0]["expr"])
    }
    assert len(used) == 8 and used <= known, used - known


def test_the_portal_is_configured_to_call_the_services_inside_the_namespace(docs, monkeypatch) -> None:
    """Its settings as the manifest gives them are valid; the APIs are the services' Services (port 80, which the
    network policies let it reach), the dashboard the analytics ingress' host; no development mail sink."""
    from services.portal.settings import PortalSettings

    pod = of_kind(docs, "Deployment")[PORTAL]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {v["name"]: v["value"] for v in container["env"] if "value" in v}
    assert "MENTORSHIP_PORTAL_DEV_MAIL_URL" not in env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    options = PortalSettings()
    for service in PORTAL_CALLS:
        assert options.base_url(service) == f"http://{of_kind(docs, 'Service')[service]['metadata']['name']}"
    [rule] = of_kind(docs, "Ingress")["analytics"]["spec"]["rules"]
    assert options.dashboard_url == f"https://{rule['host']}/dashboard"
    [portal_rule] = of_kind(docs, "Ingress")[PORTAL]["spec"]["rules"]
    assert portal_rule["http"]["paths"][0]["backend"]["service"]["name"] == PORTAL
