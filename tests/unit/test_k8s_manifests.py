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
        "Ingress": "networking.k8s.io/v1",
    }
    for doc in docs:
        assert doc["apiVersion"] == api_versions[doc["kind"]], doc["kind"]
        assert DNS_LABEL.match(doc["metadata"]["name"])
        if doc["kind"] != "Namespace":
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


def test_ingress_body_limits_are_the_services_own(docs) -> None:
    from services.profiles.bootstrap import build_app as profiles_app
    from shared.limits import BULK_BODY_BYTES, BULK_ROUTES, MIB
    from shared.settings import ServiceSettings

    ingresses = of_kind(docs, "Ingress")
    [config] = of_kind(docs, "ConfigMap").values()
    default = ServiceSettings.model_fields["http_max_body_bytes"].default
    assert int(config["data"]["MENTORSHIP_HTTP_MAX_BODY_BYTES"]) == default
    size = "nginx.ingress.kubernetes.io/proxy-body-size"
    for service in SERVICES:
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
                ref = variable["valueFrom"]["secretKeyRef"]
                assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
                if variable["name"] == "MENTORSHIP_PG_DSN":
                    dsn_keys.add(ref["key"])
    assert len(dsn_keys) == len(SERVICES)  # a database per service


def test_topic_job_creates_every_topic_with_retention_forever(docs) -> None:
    [job] = of_kind(docs, "Job").values()
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    for topic in all_event_topics() + [dead_letter_topic(s) for s in SERVICES]:
        assert f"--topic {topic} " in script
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
