"""``/readyz`` tells the truth about the broker: a paused broker makes the service unready, then ready again."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from mentorship.devstack.broker import start_tansu
from mentorship.stack import start_services

pytestmark = pytest.mark.e2e


def test_readiness_follows_the_broker(postgres, tmp_path: Path) -> None:
    with start_tansu(log_dir=tmp_path) as broker:
        [tansu] = [
            p
            for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"] and "tansu" in p.info["cmdline"][0] and broker.bootstrap in " ".join(p.info["cmdline"])
        ]
        with start_services(
            postgres, broker.bootstrap, tmp_path, names=("analytics",), database_prefix=f"ready_{uuid.uuid4().hex[:8]}"
        ) as services:
            url = services["analytics"].url
            assert httpx.get(f"{url}/readyz").status_code == 200
            tansu.send_signal(signal.SIGSTOP)
            try:
                paused = httpx.get(f"{url}/readyz", timeout=10)
            finally:
                tansu.send_signal(signal.SIGCONT)
            assert paused.status_code == 503
            assert paused.json()["checks"] == {"database": True, "broker": False}
            assert httpx.get(f"{url}/healthz").status_code == 200  # alive, just not ready
            assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
