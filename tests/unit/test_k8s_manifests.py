"""The Kubernetes manifests in deploy/k8s: fresh, and consistent with each other and with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from deploy.k8s.generate import HERE, render
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
    assert set(deployments) == set(services) == set(hpas) == set(SERVICES)
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


def test_referenced_config_and_secret_keys_exist(docs) -> None:
    [config] = of_kind(docs, "ConfigMap").values()
    [secret] = of_kind(docs, "Secret").values()
    dsn_keys = set()
    for deployment in of_kind(docs, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"] + pod["initContainers"]:
            assert [e["configMapRef"]["name"] for e in container["envFrom"]] == [config["metadata"]["name"]]
            for variable in container["env"]:
                if "value" in variable:  # the broker principal: the service's name, not a secret
                    assert (variable["name"], variable["value"]) == (
                        "MENTORSHIP_KAFKA_SASL_USERNAME",
                        deployment_name(pod),
                    )
                    continue
                ref = variable["valueFrom"]["secretKeyRef"]
                assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
                if variable["name"] == "MENTORSHIP_PG_DSN":
                    dsn_keys.add(ref["key"])
    assert len(dsn_keys) == len(SERVICES)  # a database per service


def deployment_name(pod: dict) -> str:
    return pod["containers"][0]["name"]


def test_network_policies_let_in_only_the_ingress_and_reach_only_what_each_service_needs(docs) -> None:
    policies = of_kind(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert deny["ingress"] == [] and deny["egress"] == []
    for service in SERVICES:
        spec = policies[service]["spec"]
        [rule] = spec["ingress"]
        sources = {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in rule["from"]}
        assert sources == {"ingress-nginx", "monitoring"} and rule["ports"] == [{"protocol": "TCP", "port": 8000}]
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


def test_services_reach_the_broker_over_sasl_ssl_as_their_own_principal(docs) -> None:
    [config] = of_kind(docs, "ConfigMap").values()
    data = config["data"]
    assert data["MENTORSHIP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["MENTORSHIP_KAFKA_SASL_MECHANISM"].startswith("SCRAM-SHA-")
    for deployment in of_kind(docs, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
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
