"""Use case: a party proposes the agreement's terms (a new draft revision, no event); the cadence a proposal
leaves out is the relationship's program's."""

from __future__ import annotations

from services.relationships.application.commands import ProposeAgreement
from services.relationships.application.container import Container
from services.relationships.domain.agreement import AgreementDraft, AgreementProposal


async def handle(c: Container, cmd: ProposeAgreement) -> AgreementDraft:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        previous = await c.drafts.load(conn, cmd.relationship_id, for_update=True)
        terms = cmd.proposal
        if isinstance(terms, AgreementProposal):
            terms = terms.terms(await c.programs.terms(conn, relationship.program_id))
        draft = relationship.propose_agreement(previous, cmd.by, terms, c.today())
        await c.drafts.save(conn, draft)
    return draft
