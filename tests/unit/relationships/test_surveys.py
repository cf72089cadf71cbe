"""Surveys (issue 18), the pure parts: templates, answers checked against them, the Survey aggregate's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.relationships.domain.program import Terms
from services.relationships.domain.survey import (
    DEFAULT_TEMPLATES,
    Question,
    Survey,
    SurveyNotFound,
    SurveyRuleViolation,
    Template,
    mid_point,
    survey_id_for,
)
from shared.errors import InvalidCommand
from shared.events.relationships import SURVEY_KINDS, SurveyAnswered

TODAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, tzinfo=UTC)


def opened(respondents: list[str] | None = None) -> Survey:
    survey = Survey("s1")
    survey.apply_all(
        survey.open("pulse", "default", "rel-1", respondents or ["a", "b"], "m1", TODAY, timedelta(days=30)), AT
    )
    return survey


def test_every_kind_has_a_default_and_pulses_are_short() -> None:
    assert set(DEFAULT_TEMPLATES) == set(SURVEY_KINDS)
    assert 2 <= len(DEFAULT_TEMPLATES["pulse"].questions) <= 3
    with pytest.raises(InvalidCommand) as refused:
        Template("pulse", tuple(Question(f"q{n}", "?", "scale") for n in range(4)))
    assert refused.value.field == "questions"


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        ((Question("a", "?", "scale"), Question("a", "?", "scale")), "questions.1.id"),
        ((Question("c", "?", "choice", ("only",)),), "questions.0.options"),
        ((Question("s", "?", "scale", ("x", "y")),), "questions.0.options"),
    ],
)
def test_a_template_is_refused_naming_the_question(questions, field) -> None:
    with pytest.raises(InvalidCommand) as refused:
        Template("closure", questions)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"next": "yes"}, "answers.useful"),
        ({"useful": 6, "next": "yes"}, "answers.useful"),
        ({"useful": True, "next": "yes"}, "answers.useful"),
        ({"useful": "4", "next": "yes"}, "answers.useful"),
        ({"useful": 4, "next": "perhaps"}, "answers.next"),
        ({"useful": 4, "next": "yes", "comment": "x" * 4001}, "answers.comment"),
        ({"useful": 4, "next": "yes", "extra": 1}, "answers.extra"),
    ],
)
def test_bad_answers_name_the_question(answers, field) -> None:
    with pytest.raises(InvalidCommand) as refused:
        DEFAULT_TEMPLATES["pulse"].check(answers)
    assert refused.value.field == field


def test_answers_split_into_scores_choices_and_texts() -> None:
    scores, choices, texts = DEFAULT_TEMPLATES["pulse"].check({"useful": 4, "next": "no", "comment": "fine"})
    assert (scores, choices, texts) == ({"useful": 4}, {"next": "no"}, {"comment": "fine"})


def test_a_survey_opens_once_and_each_respondent_answers_once() -> None:
    survey = opened()
    assert survey.open("pulse", "default", "rel-1", ["a"], "m1", TODAY, timedelta(days=30)) == []
    [answer] = survey.answer("a", "mentee", {"useful": 4}, {}, TODAY)
    assert isinstance(answer, SurveyAnswered) and not hasattr(answer, "texts")
    survey.apply(answer, AT)
    with pytest.raises(SurveyRuleViolation, match="already answered"):
        survey.answer("a", "mentee", {"useful": 4}, {}, TODAY)
    with pytest.raises(SurveyNotFound):
        survey.answer("z", "mentee", {"useful": 4}, {}, TODAY)
    assert survey.is_open_for("b", TODAY) and not survey.is_open_for("a", TODAY)


def test_a_survey_expires() -> None:
    survey = opened()
    assert survey.expires_on == TODAY + timedelta(days=30)
    survey.answer("b", "mentor", {"useful": 4}, {}, TODAY + timedelta(days=30))
    with pytest.raises(SurveyRuleViolation, match="expired"):
        survey.answer("b", "mentor", {"useful": 4}, {}, TODAY + timedelta(days=31))


def test_ids_mid_point_and_the_programs_kinds() -> None:
    assert survey_id_for("pulse", "m1", "rel-1") == survey_id_for("pulse", "m1", "rel-1")
    assert survey_id_for("pulse", "m1", "rel-1") != survey_id_for("pulse", "m2", "rel-1")
    assert mid_point(date(2026, 3, 2), date(2027, 3, 2)) == date(2026, 8, 31)
    assert Terms().surveys_on("pulse") and Terms(surveys=("closure",)).surveys_on("closure")
    assert not Terms(surveys=("closure",)).surveys_on("pulse") and not Terms(surveys=()).surveys_on("closure")


def test_a_full_group_of_41_parties_is_asked() -> None:
    everyone = [f"p{n}" for n in range(41)]
    [event] = Survey("s2").open("closure", "default", "rel-1", everyone, "closure", TODAY, timedelta(days=30))
    assert len(event.respondent_ids) == 41
