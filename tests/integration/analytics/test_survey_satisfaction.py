"""The satisfaction figures read the closure and annual-review survey answers (issue 18) beside the older
``FeedbackSubmitted``, on a real broker and real Postgres, against hand-computed figures.

The dashboard scenario's two ``FeedbackSubmitted`` answers of rel-1 (satisfaction 5 and 4, goals met both, one
would recommend) plus:
- a closure survey answer of rel-1: satisfaction 2, goals 5 (met), recommend "no";
- a built-in annual-review answer (no ``recommend`` question): not a satisfaction row, only in the survey results;
- a pulse answer: not a satisfaction row.
→ 3 answers, mean (5 + 4 + 2) / 3 = 3.67, goals met 3 of 3, would recommend 1 of 3; each score once (withheld at 2).
"""

from __future__ import annotations

from datetime import date, timedelta

from services.analytics.querying.dashboard import Filters, program_figures
from shared.events.relationships import SurveyAnswered
from tests.integration.analytics.test_dashboard import program_events, publish_and_project
from tests.integration.analytics.test_timeline_projection import DAY, T0, envelope


def answer(survey_id: str, kind: str, who: str, scores: dict, choices: dict) -> SurveyAnswered:
    return SurveyAnswered(
        survey_id=survey_id,
        kind=kind,
        relationship_id="rel-1",
        respondent_id=who,
        respondent_role="mentor",
        answered_on=date(2026, 6, 1),
        scores=scores,
        choices=choices,
    )


async def test_closure_survey_answers_count_in_the_satisfaction_figures(pool, broker, topic_name) -> None:
    surveys = [
        answer("s-closure", "closure", "b", {"satisfaction": 2, "goals": 5}, {"recommend": "no"}),
        answer("s-annual", "annual_review", "m1", {"satisfaction": 1, "goals": 1}, {"continue": "close"}),
        answer("s-pulse", "pulse", "m1", {"useful": 1}, {"next": "no"}),
    ]
    events = program_events() + [
        ("relationships", envelope(e, e.survey_id, T0 + 149 * DAY + timedelta(minutes=i), "relationships"))
        for i, e in enumerate(surveys)
    ]
    pool, schema = await publish_and_project(pool, broker.bootstrap, topic_name, events)
    async with pool.acquire() as conn:
        result = await program_figures(conn, schema, Filters(), 2)
    assert result["satisfaction"] == {
        "answers": 3,
        "mean": 3.67,
        "goals_met_rate": 1.0,
        "would_recommend_rate": 0.3333,
        "distribution": {"1": 0, "2": None, "3": 0, "4": None, "5": None},
    }
