"""Is there a Docker engine to run testcontainers against?"""

from __future__ import annotations

import functools
import os


@functools.cache
def docker_engine_available(timeout: float = 3.0) -> bool:
    """Ping the engine testcontainers would use (``DOCKER_HOST`` or the default socket).

    ``MENTORSHIP_NO_DOCKER=1`` forces the local fallbacks even where an engine runs.
    Cached: the answer does not change within a test run and a dead TCP host costs ``timeout``.
    """
    if os.environ.get("MENTORSHIP_NO_DOCKER", "") not in ("", "0"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=int(timeout))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no socket, engine down, permission denied, docker SDK missing ...
        return False
