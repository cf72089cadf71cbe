"""Survey figures (issue 18) projected from real events on the real broker into real Postgres, against hand-computed
response rates and results, with small cells withheld (min_cell 3 here).

- ``default``, pulse: four surveys asking 2 people each (8 asked); 5 answers (useful 4, 5, 3, 4, 2; next: yes x4,
  no x1) → answered 5 of 8 (3 did not answer: not small), rate 0.625, mean useful 3.6, "yes" 4, "no" withheld.
- ``default``, closure: one survey asking 2, 1 answer → everything withheld.
- ``faculty``, mid_point: one survey asking 3, all answer (satisfaction 5, 4, 3) → 3 of 3 (none missing: 0 is
  shown), rate 1.0, mean 4.0.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.analytics.adapters.dashboard_page import render
from services.analytics.querying.dashboard import Filters, figures_as_rows, program_figures
from services.analytics.querying.surveys import survey_figures
from shared.events.relationships import SurveyAnswered, SurveyOpened
from tests.integration.analytics.test_dashboard import publish_and_project
from tests.integration.analytics.test_timeline_projection import T0, envelope

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


def opened(sid: str, kind: str, program: str, who: list[str]) -> tuple[str, object]:
    event = SurveyOpened(
        survey_id=sid,
        kind=kind,
        program_id=program,
        relationship_id="rel-1",
        respondent_ids=who,
        opened_on=date(2026, 3, 2),
        expires_on=date(2026, 4, 1),
        occasion="m",
    )
    return "relationships", envelope(event, sid, T0, "relationships")


def answered(sid: str, kind: str, program: str, who: str, scores: dict, choices: dict) -> tuple[str, object]:
    event = SurveyAnswered(
        survey_id=sid,
        kind=kind,
        program_id=program,
        relationship_id="rel-1",
        respondent_id=who,
        respondent_role="mentee",
        answered_on=date(2026, 3, 3),
        scores=scores,
        choices=choices,
    )
    return "relationships", envelope(event, sid, T0 + DAY, "relationships")


def events() -> list:
    pulse = [
        ("s1", "a", 4, "yes"),
        ("s1", "b", 5, "yes"),
        ("s2", "a", 3, "no"),
        ("s3", "c", 4, "yes"),
        ("s4", "d", 2, "yes"),
    ]
    return [
        opened("s1", "pulse", "default", ["a", "b"]),
        opened("s2", "pulse", "default", ["a", "b"]),
        opened("s3", "pulse", "default", ["c", "d"]),
        opened("s4", "pulse", "default", ["c", "d"]),
        *[answered(s, "pulse", "default", w, {"useful": u}, {"next": n}) for s, w, u, n in pulse],
        opened("s5", "closure", "default", ["a", "b"]),
        answered("s5", "closure", "default", "a", {"satisfaction": 5}, {"recommend": "yes"}),
        opened("s6", "mid_point", "faculty", ["e", "f", "g"]),
        *[
            answered("s6", "mid_point", "faculty", w, {"satisfaction": s}, {})
            for w, s in (("e", 5), ("f", 4), ("g", 3))
        ],
    ]


@pytest.fixture
async def projected(pool, broker, topic_name):
    return await publish_and_project(pool, broker.bootstrap, topic_name, events())


async def surveys(projected, **filters) -> dict:
    pool, schema = projected
    async with pool.acquire() as conn:
        return (await program_figures(conn, schema, Filters(**filters), 3))["surveys"]


async def test_response_rates_and_results_against_hand_computed_figures(projected) -> None:
    figures = await surveys(projected)
    rates = [
        (r["survey"], r["program_id"], r["kind"], r["asked"], r["answered"], r["response_rate"])
        for r in figures["response_rates"]
    ]
    assert rates == [
        ("default/closure", "default", "closure", None, None, None),
        ("default/pulse", "default", "pulse", 8, 5, 0.625),
        ("faculty/mid_point", "faculty", "mid_point", 3, 3, 1.0),
    ]
    assert set(figures["response_rates"][0]) == {"survey", "program_id", "kind", "asked", "answered", "response_rate"}
    results = {(r["program_id"], r["kind"]): r for r in figures["results"]}
    pulse = results[("default", "pulse")]
    assert pulse["answers"] == 5
    assert pulse["scores"] == [{"question_id": "useful", "answers": 5, "mean": 3.6}]
    assert pulse["choices"] == [{"question_id": "next", "counts": {"no": None, "yes": 4}}]
    closure = results[("default", "closure")]
    assert closure["answers"] is None
    assert closure["scores"] == [{"question_id": "satisfaction", "answers": None, "mean": None}]
    assert closure["choices"] == [{"question_id": "recommend", "counts": {"yes": None}}]
    rows = dict(figures_as_rows({"surveys": figures}))
    assert rows["surveys.response_rates[default/pulse].response_rate"] == 0.625
    assert rows["surveys.results[default/pulse].scores[useful].mean"] == 3.6
    assert results[("faculty", "mid_point")]["scores"] == [{"question_id": "satisfaction", "answers": 3, "mean": 4.0}]


async def test_the_program_filter_selects_its_surveys(projected) -> None:
    """(``program_figures`` withholds everything for a program of fewer than min_cell participants: none here.)"""
    pool, schema = projected
    async with pool.acquire() as conn:
        figures = await survey_figures(conn, schema, Filters(program="faculty"), 3)
    assert [(r["program_id"], r["kind"]) for r in figures["response_rates"]] == [("faculty", "mid_point")]
    assert [(r["program_id"], r["kind"]) for r in figures["results"]] == [("faculty", "mid_point")]


async def test_the_page_shows_the_survey_table(projected) -> None:
    pool, schema = projected
    async with pool.acquire() as conn:
        page = render(await program_figures(conn, schema, Filters(), 3), "")
    assert "<section id='surveys'>" in page
    pulse = page.split("data-survey='default/pulse'>")[1].split("</tr>")[0]
    assert "<td>8</td><td>5</td><td>63%</td>" in pulse and "useful 3.6" in pulse
    closure = page.split("data-survey='default/closure'>")[1].split("</tr>")[0]
    assert closure.count("&lt;3") >= 3


async def test_no_department_or_cohort_breakdown(projected) -> None:
    pool, schema = projected
    async with pool.acquire() as conn:
        figures = await survey_figures(conn, schema, Filters(department="Cardiology"), 3)
    assert figures["response_rates"] == [] and figures["results"] == [] and "department" in figures["unavailable"]
