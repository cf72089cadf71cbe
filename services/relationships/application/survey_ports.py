"""What the survey use cases need (issue 18): the ``SurveyStore`` port and the ``Surveys`` container.

The store keeps each program's templates, one view row per survey opened (with the questions it opened with) and
the sealed free-text answers; the Postgres implementation is ``adapters/survey_store.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from services.relationships.application.ports import Cipher, ProgramTerms, Sealed
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.survey import Survey, Template
from shared.clock import Clock
from shared.ports import Conn, TimersPort, Transactions
from shared.repository import Repository


@dataclass(frozen=True)
class SealedAnswer:
    survey_id: str
    respondent_id: str
    question_id: str
    sealed: Sealed
    written_at: datetime


class SurveyStore(Protocol):
    async def template(self, conn: Conn, program_id: str, kind: str) -> Template | None:
        """The program's own template of ``kind``; None: the built-in default applies."""
        ...

    async def save_template(self, conn: Conn, program_id: str, template: Template, by: str) -> None: ...

    async def save_view(self, conn: Conn, survey: Survey, questions: list[dict[str, Any]] | None) -> None:
        """Insert the row at opening (with ``questions``), else record who answered."""
        ...

    async def questions(self, conn: Conn, survey_id: str) -> list[dict[str, Any]] | None: ...

    async def write_answer(self, conn: Conn, answer: SealedAnswer) -> None: ...

    async def read_answers(self, conn: Conn, survey_id: str, respondent_id: str) -> list[SealedAnswer]: ...

    async def forget_respondent(self, conn: Conn, respondent_id: str) -> int: ...


@dataclass(frozen=True)
class Surveys:
    """The survey use cases' container (``bootstrap.py`` builds it beside the relationships' one)."""

    transactions: Transactions
    surveys: Repository[Survey]
    relationships: Repository[Relationship]
    store: SurveyStore
    programs: ProgramTerms
    timers: TimersPort
    cipher: Cipher
    clock: Clock
    expires_after: timedelta = timedelta(days=30)

    def today(self) -> date:
        return self.clock.now().date()
