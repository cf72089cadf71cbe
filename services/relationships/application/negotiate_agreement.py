"""Use cases: a party proposes the agreement's terms; each party signs; the last signature concludes it."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.relationships.adapters import drafts
from services.relationships.application.deps import Deps
from services.relationships.domain.agreement import AgreementDraft, AgreementTerms


async def propose_agreement(
    pool: asyncpg.Pool, deps: Deps, relationship_id: str, by: str, terms: AgreementTerms
) -> AgreementDraft:
    async with pool.acquire() as conn, conn.transaction():
        relationship = await deps.relationships.get(conn, relationship_id)
        relationship.require_party(by)
        relationship.require_open("negotiate an agreement")
        previous = await drafts.load(conn, relationship_id, for_update=True)
        draft = relationship.propose_agreement(previous, by, terms, deps.today())
        await drafts.save(conn, draft)
        return draft


async def sign_agreement(
    pool: asyncpg.Pool,
    deps: Deps,
    relationship_id: str,
    by: str,
    revision: int,
    *,
    confidentiality_accepted: bool,
    no_fault_acknowledged: bool,
    correlation_id: UUID | None = None,
) -> AgreementDraft:
    async with pool.acquire() as conn, conn.transaction():
        relationship = await deps.relationships.get(conn, relationship_id)
        relationship.require_party(by)
        relationship.require_open("sign an agreement")
        draft = await drafts.load(conn, relationship_id, for_update=True)
        events = relationship.sign_agreement(
            draft,
            by,
            revision,
            deps.today(),
            confidentiality_accepted=confidentiality_accepted,
            no_fault_acknowledged=no_fault_acknowledged,
        )
        assert draft is not None
        await drafts.save(conn, draft)
        await deps.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
        return draft
