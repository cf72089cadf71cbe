"""Use case: a party signs the current revision; the last signature concludes the agreement (``AgreementSigned``)."""

from __future__ import annotations

from services.relationships.application.commands import SignAgreement
from services.relationships.application.container import Container
from services.relationships.domain.agreement import AgreementDraft


async def handle(c: Container, cmd: SignAgreement) -> AgreementDraft:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        draft = await c.drafts.load(conn, cmd.relationship_id, for_update=True)
        events = relationship.sign_agreement(
            draft,
            cmd.by,
            cmd.revision,
            c.today(),
            confidentiality_accepted=cmd.confidentiality_accepted,
            no_fault_acknowledged=cmd.no_fault_termination_acknowledged,
            program=await c.programs.terms(conn, relationship.program_id),
        )
        assert draft is not None  # sign_agreement refuses a missing draft
        await c.drafts.save(conn, draft)
        await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
    return draft
