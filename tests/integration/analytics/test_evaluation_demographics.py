"""The evaluation's breakdowns by consented demographics, end to end: analytics projects the facts from a real
broker into real Postgres, computes the groups (participant ids), and asks the profiles service (its app, on its
own database, in-process) to count them; the block against hand-computed figures, and a profiles that does not
answer or refuses, with the rest of the dashboard standing."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
import pytest_asyncio

from services.analytics.bootstrap import build_app as build_analytics
from services.analytics.settings import AnalyticsSettings
from services.profiles.bootstrap import build_app as build_profiles
from services.profiles.settings import ProfilesSettings
from shared.auth import Role
from shared.db import create_pool, migrate, migrations_from_package, shared_migrations
from shared.events.hr import WorkerHired, WorkerTerminated
from shared.events.matching import MatchApproved, RequestRanked
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.settings import ServiceSettings
from tests.helpers import cardiologist_profile as profile
from tests.integration.analytics.test_dashboard import person
from tests.integration.analytics.test_evaluation import _worker, at, deliver
from tests.integration.analytics.test_http import ANALYST, DIRECTOR
from tests.integration.analytics.test_timeline_projection import envelope
from tests.integration.service_harness import auth

pytestmark = pytest.mark.integration

# mentee → gender answered with consent ("" consented without an answer, None no consent)
GENDER = {
    "q1": "woman",
    "q2": " Woman",
    "q3": "WOMAN",
    "q4": "man",
    "q5": "man",
    "q6": "non-binary",
    "q7": None,
    "q8": "woman",
    "q9": "woman",
    "q10": "man",
    "q11": None,
    "q12": "",
}
MATCHED = ("q1", "q2", "q3", "q4", "q5", "q6", "q7")  # q8-q12 asked and were not matched
LEFT = ("q4", "q8", "q9")  # terminated before their first anniversary; the rest are retained


def events() -> list:
    """Mentor a; mentees q1-q12 (employees e1-e12, hired 2024-01-10, registered 2026-01-05), each with one
    request ranked 2026-03-01; q1-q7 matched 2026-03-05. e4, e8, e9 left on 2024-06-30."""
    hr = []
    for i in range(1, 13):
        e = f"e{i}"
        hired = WorkerHired(
            employee_id=e,
            effective_date=date(2024, 1, 10),
            recorded_at=at("2024-01-10"),
            worker=_worker(e, "2024-01-10"),
        )
        hr.append(("hr", envelope(hired, e, at("2024-01-10"), "hr", 1)))
        if f"q{i}" in LEFT:
            left = WorkerTerminated(
                employee_id=e,
                effective_date=date(2024, 6, 30),
                recorded_at=at("2024-06-30"),
                termination_type="voluntary",
            )
            hr.append(("hr", envelope(left, e, at("2024-06-30"), "hr", 2)))
    profiles = [
        (
            "profiles",
            envelope(person(MentorRegistered, "a", "Oncology", capacity=12), "a", at("2026-01-02"), "profiles"),
        )
    ]
    matching = []
    for i in range(1, 13):
        q, r = f"q{i}", f"r{i}"
        profiles.append(
            (
                "profiles",
                envelope(person(MenteeRegistered, q, "Oncology", employee_id=f"e{i}"), q, at("2026-01-05"), "profiles"),
            )
        )
        ranked = RequestRanked(request_id=r, mentee_id=q, biography="b", motivation="m", ranked_mentor_ids=["a"])
        matching.append(("matching", envelope(ranked, r, at("2026-03-01"), "matching", 1)))
        if q in MATCHED:
            match = MatchApproved(
                match_id=f"match-{r}", mentee_id=q, mentor_id="a", mode="director", request_id=r, choice_rank=1
            )
            matching.append(("matching", envelope(match, r, at("2026-03-05"), "matching", 2)))
    return hr + profiles + matching


@pytest_asyncio.fixture
async def profiles_app(postgres):
    """Profiles on its own database, its floor at 2, its participants registered with their answers."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = postgres.create_database(name)
    pool = await create_pool(dsn, min_size=1, max_size=4)
    await migrate(pool, shared_migrations())
    await migrate(pool, migrations_from_package("services.profiles.migrations"))
    app = build_profiles(
        ServiceSettings(service_name="profiles", pg_dsn=dsn), options=ProfilesSettings(aggregate_min_cell=2)
    )
    app.state.runtime.pool = pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://profiles") as api:
        for q, gender in GENDER.items():
            body = {"name": q, "email": f"{q}@example.edu", "profile": profile()}
            if gender is not None:
                body["demographics"] = {"consented": True, "gender": gender or None}
            created = await api.post("/mentees", json=body, headers=auth(q, Role.mentee))
            assert created.status_code == 201, created.text
    yield app
    await pool.close()
    postgres.drop_database(name)


def analytics(pool, profiles_url: str | None, transport: httpx.AsyncBaseTransport | None = None):
    app = build_analytics(
        ServiceSettings(service_name="analytics", pg_dsn="postgresql://unused"),
        AnalyticsSettings(min_cell=2, profiles_url=profiles_url),
        profiles_transport=transport,
    )
    app.state.runtime.pool = pool
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics")


def match(category: str, mentees: int | None, matched: int | None, rate: float | None) -> dict:
    return {"category": category, "mentees": mentees, "matched": matched, "match_rate": rate}


def kept(category: str, eligible: int | None, retained: int | None, rate: float | None) -> dict:
    return {"category": category, "eligible_12m": eligible, "retained_12m": retained, "retention_rate_12m": rate}


NOTHING_ANSWERED = {  # nobody answered these: everyone is not_given, 7 of 12 matched, 9 of 12 retained
    "match": [match("not_given", 12, 7, 0.5833)],
    "retention_12m": [kept("not_given", 12, 9, 0.75)],
}


async def test_breakdowns_by_consented_demographics_against_hand_computed_figures(
    pool, broker, topic_name, profiles_app
) -> None:
    await deliver(pool, broker.bootstrap, topic_name, events())
    async with analytics(pool, "http://profiles", httpx.ASGITransport(app=profiles_app)) as api:
        figures = (await api.get("/dashboard.json", headers=ANALYST)).json()
        page = (await api.get("/dashboard", headers=DIRECTOR)).text
        csv = (await api.get("/dashboard.csv", headers=ANALYST)).text
        in_default = (await api.get("/dashboard.json?program=default", headers=ANALYST)).json()
    block = figures["evaluation"]["by_demographics"]
    assert block == {
        "reported": True,
        "min_cell": 2,
        "dimensions": {
            "gender": {
                # woman: q1 q2 q3 matched, q8 q9 not (" Woman" and "WOMAN" are "woman") | man: q4 q5 | q10, and
                # non-binary q6 alone: pooled into other with man (other would be 1), 3 | 1 withheld |
                # not given: q7 (no consent) | q11 (no consent), q12 (no answer): 1 withheld
                "match": [match("woman", 5, 3, 0.6), match("other", 4, None, None), match("not_given", 3, None, None)],
                # woman: q1 q2 q3 retained, q8 q9 left | other: q5 q6 q10 | q4, 1 withheld | not given: 3 | 0
                "retention_12m": [
                    kept("woman", 5, 3, 0.6),
                    kept("other", 4, None, None),
                    kept("not_given", 3, None, None),
                ],
            },
            "race_ethnicity": NOTHING_ANSWERED,
            "first_generation": NOTHING_ANSWERED,
        },
    }
    assert in_default["evaluation"]["by_demographics"] == block  # every request is in the default program
    assert 'id="chart-demographics-gender"' in page and "60 %" in page
    assert "<title>woman match rate: 60 %</title>" in page
    assert "evaluation.by_demographics.dimensions.gender.match[woman].match_rate,0.6\r\n" in csv
    assert "q1" not in str(block)  # analytics answers with counts only


async def test_a_profiles_that_does_not_answer_or_refuses_leaves_the_rest_of_the_dashboard(
    pool, broker, topic_name, profiles_app
) -> None:
    await deliver(pool, broker.bootstrap, topic_name, events())
    async with analytics(pool, "http://127.0.0.1:9") as api:  # nothing listens on port 9
        down = await api.get("/dashboard.json", headers=ANALYST)
        page = await api.get("/dashboard", headers=ANALYST)
    assert down.status_code == 200
    evaluation = down.json()["evaluation"]
    assert evaluation["by_demographics"]["reported"] is False
    assert evaluation["by_demographics"]["reason"].startswith("profiles did not answer: http://127.0.0.1:9")
    assert evaluation["by_priority_group"][0]["match_rate"] == 0.5833  # the rest stands: 7 of 12 matched
    assert page.status_code == 200 and "profiles did not answer" in page.text

    profiles_app.state.container.aggregates.aggregate_callers.clear()  # profiles no longer knows analytics
    async with analytics(pool, "http://profiles", httpx.ASGITransport(app=profiles_app)) as api:
        refused = (await api.get("/dashboard.json", headers=ANALYST)).json()["evaluation"]["by_demographics"]
        assert refused == {"reported": False, "reason": "profiles did not answer: http://profiles answered 403"}
        profiles_app.state.container.aggregates.aggregate_callers.append("service:analytics")
        again = (await api.get("/dashboard.json", headers=ANALYST)).json()["evaluation"]["by_demographics"]
        assert again["reported"] is True  # a failed answer is not kept: the next read asks again
