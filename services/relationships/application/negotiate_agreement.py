"""Use cases: a party proposes the agreement's terms; each party signs; the last signature concludes it."""

from __future__ import annotations

from uuid import UUID

from services.relationships.application.container import Container
from services.relationships.domain.agreement import AgreementDraft, AgreementTerms


async def propose_agreement(c: Container, relationship_id: str, by: str, terms: AgreementTerms) -> AgreementDraft:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        previous = await c.drafts.load(conn, relationship_id, for_update=True)
        draft = relationship.propose_agreement(previous, by, terms, c.today())
        await c.drafts.save(conn, draft)
        return draft


async def sign_agreement(
    c: Container,
    relationship_id: str,
    by: str,
    revision: int,
    *,
    confidentiality_accepted: bool,
    no_fault_acknowledged: bool,
    correlation_id: UUID | None = None,
) -> AgreementDraft:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        draft = await c.drafts.load(conn, relationship_id, for_update=True)
        events = relationship.sign_agreement(
            draft,
            by,
            revision,
            c.today(),
            confidentiality_accepted=confidentiality_accepted,
            no_fault_acknowledged=no_fault_acknowledged,
        )
        assert draft is not None
        await c.drafts.save(conn, draft)
        await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
        return draft
