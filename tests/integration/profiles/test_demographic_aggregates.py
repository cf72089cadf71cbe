"""Demographic aggregates (POST /aggregates/demographics) on a real database: counts of consented answers per
group against hand-computed tables, consent respected, small cells and their complements withheld, only the
analytics service may ask (403 for everyone else), bad questions are 422 naming the field."""

from __future__ import annotations

import pytest
import pytest_asyncio

from services.profiles.bootstrap import build_app
from services.profiles.settings import ProfilesSettings
from shared.auth import Role
from shared.settings import ServiceSettings
from tests.helpers import cardiologist_profile as profile
from tests.integration.service_harness import auth

ANALYTICS = auth("service:analytics", Role.service)
PATH = "/aggregates/demographics"

# person → (gender, first_generation) answered with consent; None: no consent given
PEOPLE = {
    "w1": (" Woman ", True),
    "w2": ("woman", True),
    "w3": ("WOMAN", False),
    "w4": ("woman", True),
    "w5": ("Woman", None),
    "m1": ("man", False),
    "m2": ("Man", False),
    "m3": ("man", True),
    "m4": ("man", None),
    "nb1": ("non-binary", True),
    "ag1": ("agender", None),
    "u1": (None, None),  # consented, answered nothing
    "x1": None,
    "x2": None,
}
MATCHED = ["w1", "w2", "w3", "m1", "m2", "nb1", "x1"]
NOT_MATCHED = ["w4", "w5", "m3", "m4", "ag1", "x2", "u1", "ghost"]  # ghost: never registered


@pytest_asyncio.fixture
async def people(app, api) -> None:
    for person, answers in PEOPLE.items():
        body = {"name": person, "email": f"{person}@example.edu", "profile": profile()}
        if answers is not None:
            gender, first_generation = answers
            body["demographics"] = {"consented": True, "gender": gender, "first_generation": first_generation}
        created = await api.post("/mentees", json=body, headers=auth(person, Role.mentee))
        assert created.status_code == 201, created.text


@pytest.fixture
def app(profiles_pool, clock, fresh_dsn):
    """Profiles with a floor of 2 (the hand-computed tables are small)."""
    app = build_app(
        ServiceSettings(service_name="profiles", pg_dsn=fresh_dsn),
        clock=clock,
        options=ProfilesSettings(aggregate_min_cell=2),
    )
    app.state.runtime.pool = profiles_pool
    return app


def question(dimension: str = "gender", min_cell: int = 2, **groups: list[str]) -> dict:
    return {
        "dimension": dimension,
        "groups": groups or {"matched": MATCHED, "not_matched": NOT_MATCHED},
        "min_cell": min_cell,
    }


def row(category: str, people: int | None, matched: int | None, not_matched: int | None) -> dict:
    return {"category": category, "people": people, "counts": {"matched": matched, "not_matched": not_matched}}


async def test_counts_consented_answers_per_group_with_small_cells_withheld(api, people) -> None:
    answer = await api.post(PATH, json=question(), headers=ANALYTICS)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "dimension": "gender",
        "min_cell": 2,
        "groups": ["matched", "not_matched"],
        "categories": [
            row("woman", 5, 3, 2),  # " Woman ", "woman", "WOMAN" are one category
            row("man", 4, 2, 2),
            row("other", 2, None, None),  # non-binary (1) and agender (1), pooled: 1 and 1 withheld
            row("not_given", 4, None, None),  # x1 | x2, u1 (no answer), ghost (unknown): 1 matched withheld
        ],
    }
    first_generation = await api.post(PATH, json=question("first_generation"), headers=ANALYTICS)
    # yes: w1 w2 nb1 (matched), w4 m3 (not) | no: w3 m1 m2 (matched) | not given: x1 | w5 m4 ag1 u1 x2 ghost
    assert first_generation.json()["categories"] == [
        row("yes", 5, 3, 2),
        row("no", 3, None, None),  # 3 matched, 0 not matched: withheld
        row("not_given", 7, None, None),  # 1 matched: withheld
    ]


async def test_an_answer_counts_only_while_consented(api, people) -> None:
    withdrawn = await api.patch(
        "/participants/w5/profile", json={"demographics": {"consented": False}}, headers=auth("w5", Role.mentee)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    categories = (await api.post(PATH, json=question(), headers=ANALYTICS)).json()["categories"]
    assert row("woman", 4, None, None) in categories  # 3 and 1: the 1 withheld, so the 3 too
    assert row("not_given", 5, None, None) in categories


async def test_the_floor_and_the_complement(api, people) -> None:
    at_five = (await api.post(PATH, json=question(min_cell=5), headers=ANALYTICS)).json()
    # woman 5, man 4 → pooled with non-binary and agender, other 6; not_given's 4 withheld, so the smallest total
    # shown (woman's) too, or 15 - 5 - 6 would give it; every row has a count below 5
    assert at_five["min_cell"] == 5
    assert at_five["categories"] == [
        row("woman", None, None, None),
        row("other", 6, None, None),
        row("not_given", None, None, None),
    ]
    below_floor = (await api.post(PATH, json=question(min_cell=0), headers=ANALYTICS)).json()
    assert below_floor["min_cell"] == 2  # never below the service's own
    one_group = (await api.post(PATH, json=question(everyone=MATCHED + NOT_MATCHED), headers=ANALYTICS)).json()
    assert one_group["categories"][0] == {"category": "woman", "people": 5, "counts": {"everyone": 5}}


@pytest.mark.parametrize(
    "headers",
    [
        auth("service:matching", Role.service),  # another platform service
        auth("director-1", Role.admin),
        auth("analyst-1", Role.analyst),
        auth("service:analytics", Role.mentor),  # the right name without the service role
        auth("w1", Role.mentee),
    ],
)
async def test_only_the_analytics_service_may_ask(api, people, headers) -> None:
    assert (await api.post(PATH, json=question(), headers=headers)).status_code == 403


async def test_no_token_is_401(api) -> None:
    assert (await api.post(PATH, json=question())).status_code == 401


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({**question(), "dimension": "religion"}, ["body", "dimension"], "gender"),
        (question(matched=["w1"], not_matched=["w1"]), ["body", "groups", "not_matched"], "overlap"),
        (question(matched=["w1", "w1"]), ["body", "groups", "matched"], "twice"),
        (question(**{"Bad Label": ["w1"]}), ["body", "groups", "Bad Label", "[key]"], "pattern"),
        (question(**{f"g{i}": [f"p{i}"] for i in range(11)}), ["body", "groups"], "at most 10"),
        ({**question(), "groups": {}}, ["body", "groups"], "at least 1"),
        ({**question(), "min_cell": -1}, ["body", "min_cell"], "greater than or equal"),
        (question(matched=["x" * 65]), ["body", "groups", "matched", 0], "at most 64"),
    ],
)
async def test_bad_questions_are_422_naming_the_field(api, body, loc, words) -> None:
    answer = await api.post(PATH, json=body, headers=ANALYTICS)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == loc and words in error["msg"], error
