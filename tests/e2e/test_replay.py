"""Analytics as a process: the live projection fills from the topics; `mentorship replay` rebuilds and swaps."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from mentorship.devstack.broker import start_tansu
from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.bus import topic_for
from shared.settings import DEV_JWT_SECRET
from tests.e2e.cli import mentorship
from tests.helpers import eventually, send
from tests.integration.analytics.test_timeline_projection import DAY, T0, scenario

pytestmark = pytest.mark.e2e

DIRECTOR = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'dir', [Role.admin])}"}


async def test_live_projection_then_replay_and_as_of_snapshot(postgres, tmp_path: Path) -> None:
    with (
        start_tansu(log_dir=tmp_path) as broker,
        start_services(
            postgres, broker.bootstrap, tmp_path, names=("analytics",), database_prefix=f"replay_{uuid.uuid4().hex[:8]}"
        ) as services,
    ):
        url = services["analytics"].url
        await send(broker.bootstrap, ((topic_for(owner), env) for owner, env in scenario()))

        async def live_has_all() -> bool:
            response = httpx.get(f"{url}/timelines/relationships/rel-1", headers=DIRECTOR)
            return response.status_code == 200 and len(response.json()["entries"]) == 11

        await eventually(live_has_all, timeout=30)
        before = httpx.get(f"{url}/timelines/relationships/rel-1", headers=DIRECTOR).json()

        replay = mentorship("replay", "--url", url)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert "generation 2: live; 11 events read, 11 applied" in replay.stdout
        assert httpx.get(f"{url}/timelines/relationships/rel-1", headers=DIRECTOR).json() == before

        cut = (T0 + 20 * DAY).isoformat()
        snapshot = mentorship("replay", "--url", url, "--as-of", cut)
        assert snapshot.returncode == 0, snapshot.stdout + snapshot.stderr
        assert "generation 3: snapshot" in snapshot.stdout
        then = httpx.get(f"{url}/timelines/relationships/rel-1?generation=3", headers=DIRECTOR).json()
        assert len(then["entries"]) == 9 and then["milestones"][-1]["milestone"] == "AgreementSigned"
        # the live generation moved on to 2 and still serves everything
        assert len(httpx.get(f"{url}/timelines/relationships/rel-1", headers=DIRECTOR).json()["entries"]) == 11
        assert httpx.get(f"{url}/timelines/relationships/rel-1?generation=1", headers=DIRECTOR).status_code == 404
