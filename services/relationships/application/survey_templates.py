"""Use cases: the director sets a program's template of a survey kind; any member reads it (the program's own,
else the built-in default)."""

from __future__ import annotations

from typing import Any

from services.relationships.application.survey_ports import Surveys
from services.relationships.domain.survey import DEFAULT_TEMPLATES, Template


async def put_template(s: Surveys, program_id: str, template: Template, by: str) -> None:
    async with s.transactions() as conn:
        await s.store.save_template(conn, program_id, template, by)


async def get_template(s: Surveys, program_id: str, kind: str) -> dict[str, Any]:
    async with s.transactions() as conn:
        own = await s.store.template(conn, program_id, kind)
    template = own or DEFAULT_TEMPLATES[kind]
    return {"program_id": program_id, **template.as_dict(), "default": own is None}
