"""The demo institution through real service processes: two simulated years land on the dashboard."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mentorship.devstack.broker import start_tansu
from mentorship.devstack.demo import SCALES
from mentorship.devstack.demo.run import play, service_env, wait_for_dashboard
from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.settings import DEV_JWT_SECRET

pytestmark = pytest.mark.e2e

DIRECTOR = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'dir', [Role.admin])}"}
# Stamped by the services that act on the demo's calls and timers, never by a delivery retry afterwards.
PROGRAM_EVENTS = {
    "RequestRanked",
    "RequestReviewed",
    "RequestForwarded",
    "MentorResponded",
    "RequestExpired",
    "MatchApproved",
    "RelationshipStarted",
    "AgreementSigned",
    "MeetingLogged",
    "RelationshipLagging",
    "GoalProgressed",
    "RelationshipClosed",
    "SurveyAnswered",
}


async def test_small_demo_fills_the_dashboard_with_two_past_years(postgres, tmp_path: Path) -> None:
    clock_file = tmp_path / "dev-clock"
    with (
        start_tansu(log_dir=tmp_path) as broker,
        start_services(
            postgres,
            broker.bootstrap,
            tmp_path,
            database_prefix=f"demo_{uuid.uuid4().hex[:8]}",
            extra_env=service_env(clock_file),
        ) as services,
    ):
        urls = {name: s.url for name, s in services.items()}
        dsns = {name: postgres.dsn_for(s.database) for name, s in services.items()}
        plan, report = await play(SCALES["small"], urls, dsns, broker.bootstrap, clock_file, DEV_JWT_SECRET, seed=7)
        assert not clock_file.exists(), "the services are back on real time"

        figures = await wait_for_dashboard(urls["analytics"], DEV_JWT_SECRET, plan.counts()["request"])
        requests, relationships = figures["requests"], figures["relationships"]
        assert requests["submitted"] == plan.counts()["request"]
        assert requests["declined"] == sum(1 for a in plan.actions if a.kind == "review" and not a.data["approved"])
        assert requests["matched"] > 0 and relationships["started"] > 0
        assert relationships["meetings_per_relationship"] > 1
        assert relationships["ever_lagging"] > 0, "drifting pairs lagged (relationships' cadence timers fired)"
        assert relationships["closed"] > 0 and relationships["goals_achieved"] > 0
        assert figures["satisfaction"]["answers"] > 0

        mentee = next(a.data["mentee"] for a in plan.actions if a.kind == "agreement")
        timeline = httpx.get(f"{urls['analytics']}/timelines/participants/{mentee}", headers=DIRECTOR, timeout=30)
        stamped = [
            datetime.fromisoformat(e["at"]) for e in timeline.json()["entries"] if e["event_type"] in PROGRAM_EVENTS
        ]
        assert len(stamped) >= 5
        assert all(plan.start <= at <= datetime.now(UTC) for at in stamped), (plan.start, stamped)
        assert (max(stamped) - min(stamped)).days > 30, "the clock moved through the simulated months"
        assert report.timer_steps > 0

        # The three programs, each with its relationships.
        assert len(report.programs) == 3 and "Faculty career mentoring" in report.programs[0]
        listed = httpx.get(f"{urls['matching']}/programs", headers=DIRECTOR, timeout=30).json()["programs"]
        programs = {p["program_id"]: p for p in listed}
        assert programs["default"]["name"] == "Faculty career mentoring"
        assert programs["default"]["matching_mode"] == "director_review"
        circles_program = programs["new-hire-circles"]
        assert circles_program["model"] == "peer" and circles_program["circle_size"] == 4
        assert programs["residents-group"]["model"] == "group"

        def relationships_in(program_id: str) -> list[dict]:
            answer = httpx.get(
                f"{urls['relationships']}/relationships",
                params={"program_id": program_id, "limit": 500},
                headers=DIRECTOR,
                timeout=30,
            )
            return answer.json()["items"]

        assert relationships_in("default"), "the history's pairs are the faculty program's"
        circles = relationships_in("new-hire-circles")
        assert len(circles) >= 2 and all(c["model"] == "peer" and c["mentor_id"] is None for c in circles)
        assert all(3 <= len(c["mentee_ids"]) <= 5 for c in circles)
        runs = httpx.get(f"{urls['matching']}/bulk-runs", headers=DIRECTOR, timeout=30).json()["items"]
        assert any(r["program_id"] == "new-hire-circles" and r["status"] == "committed" for r in runs)
        (group,) = relationships_in("residents-group")
        assert group["model"] == "group" and group["co_mentor_ids"] and len(group["mentee_ids"]) == 4
        assert group["phase"] == "enabling", "every member signed the agreement"
        meetings = group["meetings"]
        assert (meetings if isinstance(meetings, int) else len(meetings)) == 1
