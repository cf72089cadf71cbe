"""Writes the Kubernetes manifests in this folder from one table of services.

    python -m deploy.k8s.generate          # rewrite the manifests
    python -m deploy.k8s.generate --check  # exit 1 when a checked-in manifest is stale

Plain manifests (no Helm/Kustomize needed to apply them): ``kubectl apply -f deploy/k8s/``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from shared.bus import HR_TOPIC, PUBLISHING_SERVICES, SERVICES, dead_letter_topic, topic_for
from shared.limits import BULK_BODY_BYTES, BULK_ROUTES, DEFAULT_BODY_BYTES, MIB

HERE = Path(__file__).parent
NAMESPACE = "mentorship"
IMAGE = "mentorship-platform:0.1.0"
KAFKA_IMAGE = "apache/kafka:3.8.0"
PARTITIONS = 6


@dataclass(frozen=True)
class Sizing:
    min_replicas: int
    max_replicas: int
    cpu: str
    memory: str


SIZING = {
    "profiles": Sizing(2, 6, "250m", "256Mi"),
    "matching": Sizing(2, 6, "500m", "1Gi"),  # bulk runs hold a cohort's candidate graph in memory
    "relationships": Sizing(2, 6, "250m", "256Mi"),
    "notifications": Sizing(2, 4, "250m", "256Mi"),
    "analytics": Sizing(1, 3, "500m", "1Gi"),  # a replay adds a worker process (~110 MB) and batches in flight
}


def labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "mentorship"}


def meta(name: str, service: str | None = None) -> dict:
    data: dict = {"name": name, "namespace": NAMESPACE}
    if service:
        data["labels"] = labels(service)
    return data


SERVICE_SECRETS = {"relationships": {"MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS": "relationships-confidential-keys"}}


def secret_env(name: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "mentorship-secrets", "key": key}}}


def env(service: str) -> list[dict]:
    extra = [secret_env(name, key) for name, key in SERVICE_SECRETS.get(service, {}).items()]
    return [
        secret_env("MENTORSHIP_PG_DSN", f"{service}-pg-dsn"),
        secret_env("MENTORSHIP_JWT_SECRET", "jwt-secret"),
        *extra,
    ]


def probe(path: str, period: int, failures: int) -> dict:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def deployment(service: str) -> dict:
    sizing = SIZING[service]

    def container_common() -> dict:
        return {
            "image": IMAGE,
            "envFrom": [{"configMapRef": {"name": "mentorship-config"}}],
            "env": env(service),
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
        }

    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(service, service),
        "spec": {
            "replicas": sizing.min_replicas,
            "selector": {"matchLabels": labels(service)},
            "template": {
                "metadata": {
                    "labels": labels(service),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": "8000",
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
                    "terminationGracePeriodSeconds": 30,
                    "initContainers": [
                        {
                            "name": "migrate",
                            "command": ["python", "-m", f"services.{service}", "--migrate-only"],
                            **container_common(),
                        }
                    ],
                    "containers": [
                        {
                            "name": service,
                            "command": ["python", "-m", f"services.{service}"],
                            "ports": [{"name": "http", "containerPort": 8000}],
                            **container_common(),
                            "livenessProbe": probe("/healthz", 10, 3),
                            "readinessProbe": probe("/readyz", 5, 2),
                            "startupProbe": probe("/healthz", 2, 30),
                            "resources": {
                                "requests": {"cpu": sizing.cpu, "memory": sizing.memory},
                                "limits": {"memory": sizing.memory},
                            },
                        }
                    ],
                },
            },
        },
    }


def service_object(service: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(service, service),
        "spec": {"selector": labels(service), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def autoscaler(service: str) -> dict:
    sizing = SIZING[service]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta(service, service),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
            "minReplicas": sizing.min_replicas,
            "maxReplicas": sizing.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }


def host(service: str) -> str:
    return f"{service}.mentorship.example.edu"  # replace with the institution's host names


def nginx_size(size: int) -> str:
    return f"{size // MIB}m"  # nginx counts m as MiB


def ingress(name: str, service: str, paths: tuple[str, ...], body_bytes: int) -> dict:
    """ingress-nginx refuses a larger body with 413 before it reaches the service (which refuses it too)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            **meta(name, service),
            "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": nginx_size(body_bytes)},
        },
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": host(service),
                    "http": {
                        "paths": [
                            {
                                "path": path,
                                "pathType": "Prefix",
                                "backend": {"service": {"name": service, "port": {"name": "http"}}},
                            }
                            for path in paths
                        ]
                    },
                }
            ],
        },
    }


def ingresses(service: str) -> list[dict]:
    """Every route at the default body limit; the routes that take batches at theirs (``shared.limits``)."""
    found = [ingress(service, service, ("/",), DEFAULT_BODY_BYTES)]
    if service in BULK_ROUTES:
        found.append(ingress(f"{service}-bulk", service, BULK_ROUTES[service], BULK_BODY_BYTES))
    return found


def topics() -> list[str]:
    return [topic_for(s) for s in PUBLISHING_SERVICES] + [HR_TOPIC] + [dead_letter_topic(s) for s in SERVICES]


def topics_job() -> dict:
    create = " && ".join(
        f'/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$KAFKA" --create --if-not-exists --topic {t}'
        f" --partitions {PARTITIONS} --replication-factor 3 --config retention.ms=-1 --config retention.bytes=-1"
        for t in topics()
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta("create-topics"),
        "spec": {
            "backoffLimit": 6,
            "template": {
                "spec": {
                    "restartPolicy": "OnFailure",
                    "containers": [
                        {
                            "name": "create-topics",
                            "image": KAFKA_IMAGE,
                            "env": [
                                {
                                    "name": "KAFKA",
                                    "valueFrom": {
                                        "configMapKeyRef": {
                                            "name": "mentorship-config",
                                            "key": "MENTORSHIP_KAFKA_BOOTSTRAP",
                                        }
                                    },
                                }
                            ],
                            "command": ["/bin/sh", "-c", create],
                        }
                    ],
                }
            },
        },
    }


def config() -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta("mentorship-config"),
            "data": {
                "MENTORSHIP_KAFKA_BOOTSTRAP": "kafka.kafka.svc:9092",
                "MENTORSHIP_TOPIC_PARTITIONS": str(PARTITIONS),
                "MENTORSHIP_HTTP_HOST": "0.0.0.0",
                "MENTORSHIP_HTTP_PORT": "8000",
                "MENTORSHIP_LOG_LEVEL": "INFO",
                "MENTORSHIP_HTTP_MAX_BODY_BYTES": str(DEFAULT_BODY_BYTES),  # as the ingress' proxy-body-size
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta("mentorship-secrets"),
            "type": "Opaque",
            "stringData": {
                "jwt-secret": "REPLACE-with-a-random-64-char-secret",
                "relationships-confidential-keys": "REPLACE-with-k1:<base64 32-byte key>",
                **{f"{s}-pg-dsn": f"postgresql://{s}:REPLACE@{s}-db.example.internal:5432/{s}" for s in SERVICES},
            },
        },
    ]


def documents() -> dict[str, list[dict]]:
    files = {"00-config.yaml": config(), "10-topics-job.yaml": [topics_job()]}
    for service in SERVICES:
        files[f"20-{service}.yaml"] = [
            deployment(service),
            service_object(service),
            autoscaler(service),
            *ingresses(service),
        ]
    return files


def render() -> dict[str, str]:
    header = "# Generated by `python -m deploy.k8s.generate`; edit the generator, not this file.\n"
    return {
        name: header + yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)
        for name, docs in documents().items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.k8s.generate")
    parser.add_argument("--check", action="store_true", help="exit 1 when a manifest is stale")
    args = parser.parse_args()
    stale = [name for name, text in render().items() if not (HERE / name).exists() or (HERE / name).read_text() != text]
    if args.check:
        print("\n".join(f"stale: deploy/k8s/{n}" for n in stale) or "manifests are fresh")
        sys.exit(1 if stale else 0)
    for name, text in render().items():
        (HERE / name).write_text(text)
    print(f"wrote {len(render())} manifest files to {HERE}")


if __name__ == "__main__":
    main()
