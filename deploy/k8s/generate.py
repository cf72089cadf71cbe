"""Writes the Kubernetes manifests in this folder from one table of services.

    python -m deploy.k8s.generate          # rewrite the manifests
    python -m deploy.k8s.generate --check  # exit 1 when a checked-in manifest is stale

Plain manifests (no Helm/Kustomize needed to apply them): ``kubectl apply -f deploy/k8s/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from deploy.k8s.acls import acl_markdown
from mentorship.stack import AGGREGATE_SOURCES, KEY_SOURCES, PORTAL, PORTAL_CALLS, SERVICE_CALLS
from shared.bus import HR_TOPIC, PUBLISHING_SERVICES, SERVICES, dead_letter_topic, max_message_bytes, topic_for
from shared.limits import BULK_BODY_BYTES, BULK_ROUTES, DEFAULT_BODY_BYTES, MIB
from shared.settings import DEFAULT_MAX_EVENT_BYTES

HERE = Path(__file__).parent
NAMESPACE = "mentorship"
IMAGE = "mentorship-platform:0.1.0"
KAFKA_IMAGE = "apache/kafka:3.8.0"
PARTITIONS = 6
MAX_EVENT_BYTES = DEFAULT_MAX_EVENT_BYTES  # the one size setting: the services' check, the topics' max.message.bytes
KAFKA_NAMESPACE = "kafka"  # where the broker runs (its bootstrap: kafka.kafka.svc:9093, SASL_SSL)
KAFKA_PORT = 9093
DATABASE_NAMESPACE = "databases"  # where each service's Postgres runs (<service>-db.databases.svc)
INGRESS_NAMESPACE = "ingress-nginx"  # the ingress controller: the only way in from outside
MONITORING_NAMESPACE = "monitoring"  # Prometheus, which scrapes /metrics
KAFKA_CA_DIR = "/etc/mentorship/kafka"
INGRESS_ADDRESSES = "10.0.0.0/8"
"""Where the ingress controller's pods get their addresses (the cluster's pod network; set yours): uvicorn takes
``X-Forwarded-Proto`` and ``-For`` only from these (``FORWARDED_ALLOW_IPS``), so it sees the TLS the ingress ends."""
ROLE_MAP_TEMPLATE = {
    "REPLACE-with-the-directors-group": "admin",
    "REPLACE-with-the-analysts-group": "analyst",
    "REPLACE-with-the-mentors-group": "mentor",
    "REPLACE-with-the-mentees-group": "mentee",
    "REPLACE-with-the-hr-integration-group": "hr-integration",
    "REPLACE-with-the-platform-services-group": "service",
}
"""The shape of ``MENTORSHIP_OIDC_ROLE_MAP``: the institution's groups go on the left; the services refuse to start
while a group is a placeholder."""


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
    "portal": Sizing(2, 6, "250m", "256Mi"),  # pages only: it waits on the services' APIs
}
DEPLOYED = (*SERVICES, PORTAL)
"""Every Deployment: the services on the broker and the portal, which reaches none (its database holds sessions)."""


def labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "mentorship"}


def meta(name: str, service: str | None = None) -> dict:
    data: dict = {"name": name, "namespace": NAMESPACE}
    if service:
        data["labels"] = labels(service)
    return data


def host(service: str) -> str:
    return f"{service}.mentorship.example.edu"  # replace with the institution's host names


SERVICE_SECRETS = {
    "relationships": {"MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS": "relationships-confidential-keys"},
    PORTAL: {"MENTORSHIP_OIDC_CLIENT_SECRET": "portal-oidc-client-secret"},
    # The consumers that open personal fields on the bus ask their producers for keys as their own client, and
    # analytics asks profiles for aggregates as its own.
    **{s: {"MENTORSHIP_SERVICE_CLIENT_SECRET": f"{s}-service-client-secret"} for s in SERVICE_CALLS},
}
SERVICE_SECRETS["analytics"] = {  # the dashboard's sign-in beside its service client
    **SERVICE_SECRETS["analytics"],
    "MENTORSHIP_OIDC_CLIENT_SECRET": "analytics-oidc-client-secret",
}
SERVICE_SETTINGS = {
    # Only analytics' own client may ask profiles for counts of consented demographics.
    "profiles": {"MENTORSHIP_PROFILES_AGGREGATE_CALLERS": '["REPLACE-with-the-analytics-service-client-id"]'},
    # The dashboard's sign-in: its client at the provider, what it asks for, where browsers reach it.
    "analytics": {
        "MENTORSHIP_ANALYTICS_PROFILES_URL": "http://profiles",
        "MENTORSHIP_SERVICE_CLIENT_ID": "REPLACE-with-the-analytics-service-client-id",
        "MENTORSHIP_OIDC_CLIENT_ID": "REPLACE-with-the-dashboard-client-id",
        "MENTORSHIP_OIDC_SCOPES": "openid profile",
        "MENTORSHIP_PUBLIC_URL": "REPLACE-with-the-dashboard-https-url",
    },
    # The people's pages: its own client (refresh tokens; the services' audiences as resource indicators), where
    # browsers reach it, the APIs it calls (their Services, inside the namespace) and the dashboard it links to.
    PORTAL: {
        "MENTORSHIP_OIDC_CLIENT_ID": "REPLACE-with-the-portal-client-id",
        "MENTORSHIP_OIDC_SCOPES": "openid profile",
        "MENTORSHIP_PUBLIC_URL": "REPLACE-with-the-portal-https-url",
        **{f"MENTORSHIP_PORTAL_{s.upper()}_URL": f"http://{s}" for s in PORTAL_CALLS},
        # A link for the browser: the dashboard where its ingress serves it (a URL the portal can start with).
        "MENTORSHIP_PORTAL_DASHBOARD_URL": f"https://{host('analytics')}/dashboard",
    },
    # Where their key sources answer (the producers' Services, inside the namespace) and their client's id.
    **{
        s: {
            "MENTORSHIP_KEY_SOURCES": json.dumps({producer: f"http://{producer}" for producer in producers}),
            "MENTORSHIP_SERVICE_CLIENT_ID": f"REPLACE-with-the-{s}-service-client-id",
        }
        for s, producers in KEY_SOURCES.items()
    },
}
"""Settings one service has that are not secrets (the others' come from the ConfigMap)."""


def secret_env(name: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "mentorship-secrets", "key": key}}}


def uses_broker(service: str) -> bool:
    return service in SERVICES


def env(service: str) -> list[dict]:
    extra = [secret_env(name, key) for name, key in SERVICE_SECRETS.get(service, {}).items()]
    own = [{"name": name, "value": value} for name, value in SERVICE_SETTINGS.get(service, {}).items()]
    broker = [
        # The service's own principal on the broker; kafka-acls.md lists what it may do.
        {"name": "MENTORSHIP_KAFKA_SASL_USERNAME", "value": service},
        secret_env("MENTORSHIP_KAFKA_SASL_PASSWORD", f"{service}-kafka-password"),
    ]
    return [secret_env("MENTORSHIP_PG_DSN", f"{service}-pg-dsn"), *broker * uses_broker(service), *extra, *own]


def kafka_ca_volume() -> dict:
    """The CA that signed the broker's certificate, mounted where MENTORSHIP_KAFKA_SSL_CAFILE points."""
    return {
        "name": "kafka-ca",
        "secret": {"secretName": "mentorship-secrets", "items": [{"key": "kafka-ca.crt", "path": "ca.crt"}]},
    }


def probe(path: str, period: int, failures: int) -> dict:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def deployment(service: str) -> dict:
    sizing = SIZING[service]

    broker = uses_broker(service)  # the portal: no broker, so no CA to mount

    def container_common() -> dict:
        return {
            "image": IMAGE,
            "envFrom": [{"configMapRef": {"name": "mentorship-config"}}],
            "env": env(service),
            **({"volumeMounts": [{"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True}]} if broker else {}),
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
                    **({"volumes": [kafka_ca_volume()]} if broker else {}),
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


ADMIN_CLIENT_CONFIG = (
    "printf '%s\\n' 'security.protocol=SASL_SSL' 'sasl.mechanism=SCRAM-SHA-512'"
    f" 'ssl.truststore.type=PEM' 'ssl.truststore.location={KAFKA_CA_DIR}/ca.crt'"
    ' "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required'
    ' username=\\"mentorship-admin\\" password=\\"$KAFKA_ADMIN_PASSWORD\\";" > /tmp/admin.properties'
)
"""The topic job's client settings: the admin principal (the only one allowed to create topics), over SASL_SSL."""


def topics_job() -> dict:
    create = " && ".join(
        [ADMIN_CLIENT_CONFIG]
        + [
            f'/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$KAFKA" --command-config /tmp/admin.properties'
            f" --create --if-not-exists --topic {t} --partitions {PARTITIONS} --replication-factor 3"
            " --config retention.ms=-1 --config retention.bytes=-1"
            f" --config max.message.bytes={max_message_bytes(MAX_EVENT_BYTES)}"
            for t in topics()
        ]
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
                                },
                                secret_env("KAFKA_ADMIN_PASSWORD", "kafka-admin-password"),
                            ],
                            "command": ["/bin/sh", "-c", create],
                            "volumeMounts": [{"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True}],
                        }
                    ],
                    "volumes": [kafka_ca_volume()],
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
                "MENTORSHIP_KAFKA_BOOTSTRAP": f"kafka.{KAFKA_NAMESPACE}.svc:{KAFKA_PORT}",
                "MENTORSHIP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "MENTORSHIP_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "MENTORSHIP_KAFKA_SSL_CAFILE": f"{KAFKA_CA_DIR}/ca.crt",
                # Not a secret, but no default either: the services refuse to start until it is an https URL.
                "MENTORSHIP_OIDC_ISSUER": "REPLACE-with-the-institution-issuer-https-url",
                # One audience per service ({service}: its name); register one API / resource at the provider each.
                "MENTORSHIP_OIDC_AUDIENCE": "urn:mentorship:{service}",
                "MENTORSHIP_OIDC_SUBJECT_CLAIM": "sub",
                "MENTORSHIP_OIDC_ROLES_CLAIM": "groups",
                "MENTORSHIP_OIDC_ROLE_MAP": json.dumps(ROLE_MAP_TEMPLATE),
                "MENTORSHIP_TOKEN_MAX_LIFETIME_SECONDS": "43200",
                "FORWARDED_ALLOW_IPS": INGRESS_ADDRESSES,
                "MENTORSHIP_TOPIC_PARTITIONS": str(PARTITIONS),
                "MENTORSHIP_HTTP_HOST": "0.0.0.0",
                "MENTORSHIP_HTTP_PORT": "8000",
                "MENTORSHIP_LOG_LEVEL": "INFO",
                "MENTORSHIP_MAX_EVENT_BYTES": str(MAX_EVENT_BYTES),
                "MENTORSHIP_HTTP_MAX_BODY_BYTES": str(DEFAULT_BODY_BYTES),  # as the ingress' proxy-body-size
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta("mentorship-secrets"),
            "type": "Opaque",
            "stringData": {
                "analytics-oidc-client-secret": "REPLACE-with-the-dashboard-client-secret",
                "portal-oidc-client-secret": "REPLACE-with-the-portal-client-secret",
                **{f"{s}-service-client-secret": f"REPLACE-with-the-{s}-service-client-secret" for s in SERVICE_CALLS},
                "relationships-confidential-keys": "REPLACE-with-k1:<base64 32-byte key>",
                **{
                    f"{s}-pg-dsn": f"postgresql://{s}:REPLACE@{s}-db.{DATABASE_NAMESPACE}.svc:5432/{s}"
                    for s in DEPLOYED
                },
                **{f"{s}-kafka-password": f"REPLACE-with-the-SCRAM-password-of-{s}" for s in SERVICES},
                "kafka-admin-password": "REPLACE-with-the-SCRAM-password-of-mentorship-admin",
                "kafka-ca.crt": "REPLACE-with-the-PEM-of-the-CA-that-signed-the-broker-certificate",
            },
        },
    ]


def network_policy(name: str, namespace: str, pods: dict, ingress: list[dict], egress: list[dict] | None) -> dict:
    types = ["Ingress"] + (["Egress"] if egress is not None else [])
    spec: dict = {"podSelector": pods, "policyTypes": types, "ingress": ingress}
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def namespace_peer(namespace: str, pod_labels: dict[str, str] | None = None) -> dict:
    peer: dict = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
    if pod_labels is not None:
        peer["podSelector"] = {"matchLabels": pod_labels}
    return peer


def tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]


DNS = {
    "to": [namespace_peer("kube-system")],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}
HTTPS_OUT = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp(443)}
"""The OpenID Connect issuer's keys (every service), its token endpoint (the web sign-ins, the key clients), the
institution's webhook receiver (notifications)."""
SMTP_OUT = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp(25, 465, 587)}


def pods(*services: str) -> list[dict]:
    return [{"podSelector": {"matchLabels": labels(s)}} for s in services]


def service_policy(service: str) -> dict:
    """In: the ingress controller and Prometheus, on the HTTP port, the consumers that ask it for keys and the
    portal, which calls its API as the signed-in person. Out: DNS, the broker (not the portal), its own database,
    the services it calls (the producers it asks for keys; the portal: the APIs of its pages), https (the
    provider; SMTP too for notifications)."""
    called = PORTAL_CALLS if service == PORTAL else SERVICE_CALLS.get(service, ())
    egress = [
        DNS,
        *([{"to": [namespace_peer(KAFKA_NAMESPACE)], "ports": tcp(KAFKA_PORT)}] * uses_broker(service)),
        {"to": [namespace_peer(DATABASE_NAMESPACE, {"app.kubernetes.io/name": f"{service}-db"})], "ports": tcp(5432)},
        *([{"to": pods(*called), "ports": tcp(8000)}] * bool(called)),
        HTTPS_OUT,
        *([SMTP_OUT] if service == "notifications" else []),
    ]
    ingress = [{"from": [namespace_peer(INGRESS_NAMESPACE), namespace_peer(MONITORING_NAMESPACE)], "ports": tcp(8000)}]
    consumers = [c for c, opened in KEY_SOURCES.items() if service in opened]
    if consumers:  # GET /internal/person-keys
        ingress.append({"from": pods(*consumers), "ports": tcp(8000)})
    askers = [c for c, asked in AGGREGATE_SOURCES.items() if service in asked]
    if askers:  # POST /aggregates/demographics
        ingress.append({"from": pods(*askers), "ports": tcp(8000)})
    if service in PORTAL_CALLS:  # the people's pages, as the person
        ingress.append({"from": pods(PORTAL), "ports": tcp(8000)})
    return network_policy(service, NAMESPACE, {"matchLabels": labels(service)}, ingress, egress)


def namespace_policies() -> list[dict]:
    """Nothing in or out of the namespace unless a policy allows it; the topic job reaches only the broker."""
    job = network_policy(
        "create-topics",
        NAMESPACE,
        {"matchLabels": {"job-name": "create-topics"}},
        [],
        [DNS, {"to": [namespace_peer(KAFKA_NAMESPACE)], "ports": tcp(KAFKA_PORT)}],
    )
    deny = network_policy("default-deny", NAMESPACE, {}, [], [])
    return [deny, job]


def backing_policies() -> list[dict]:
    """In the broker's and the databases' namespaces: the broker only from this platform's pods, each
    Postgres only from its own service."""
    broker = network_policy(
        "kafka-from-mentorship",
        KAFKA_NAMESPACE,
        {"matchLabels": {"app.kubernetes.io/name": "kafka"}},
        [{"from": [namespace_peer(NAMESPACE)], "ports": tcp(KAFKA_PORT)}],
        None,
    )
    databases = [
        network_policy(
            f"{s}-db-from-{s}",
            DATABASE_NAMESPACE,
            {"matchLabels": {"app.kubernetes.io/name": f"{s}-db"}},
            [{"from": [namespace_peer(NAMESPACE, {"app.kubernetes.io/name": s})], "ports": tcp(5432)}],
            None,
        )
        for s in DEPLOYED
    ]
    return [broker, *databases]


def documents() -> dict[str, list[dict]]:
    files = {"00-config.yaml": config(), "10-topics-job.yaml": [topics_job()]}
    for service in DEPLOYED:
        files[f"20-{service}.yaml"] = [
            deployment(service),
            service_object(service),
            autoscaler(service),
            service_policy(service),
            *ingresses(service),
        ]
    files["30-network-policies.yaml"] = namespace_policies() + backing_policies()
    return files


def render() -> dict[str, str]:
    header = "# Generated by `python -m deploy.k8s.generate`; edit the generator, not this file.\n"
    files = {
        name: header + yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)
        for name, docs in documents().items()
    }
    files["kafka-acls.md"] = acl_markdown()
    return files


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
