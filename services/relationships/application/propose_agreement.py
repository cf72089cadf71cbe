"""Use case: a party proposes the agreement's terms (a new revision; earlier signatures lapse)."""

from __future__ import annotations

from services.relationships.application.commands import ProposeAgreement
from services.relationships.application.container import Container
from services.relationships.domain.agreement import AgreementDraft


async def handle(c: Container, cmd: ProposeAgreement) -> AgreementDraft:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        previous = await c.drafts.load(conn, cmd.relationship_id, for_update=True)
        draft = relationship.propose_agreement(previous, cmd.by, cmd.terms, c.today())
        await c.drafts.save(conn, draft)
    return draft
