"""Use cases: a party proposes the agreement's terms; each party signs; the last signature concludes it."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.relationships.adapters import drafts
from services.relationships.application.deps import Deps
from services.relationships.application.streams import commit, load_existing
from services.relationships.domain.agreement import AgreementDraft, AgreementTerms
from services.relationships.domain.errors import RelationshipRuleViolation


async def propose_agreement(
    pool: asyncpg.Pool, deps: Deps, relationship_id: str, by: str, terms: AgreementTerms
) -> AgreementDraft:
    async with pool.acquire() as conn, conn.transaction():
        relationship = await load_existing(conn, deps, relationship_id)
        relationship.require_party(by)
        relationship.require_open("negotiate an agreement")
        previous = await drafts.load(conn, relationship_id, for_update=True)
        draft = AgreementDraft.propose(previous, relationship_id, terms, by, deps.today())
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
        relationship = await load_existing(conn, deps, relationship_id)
        relationship.require_party(by)
        relationship.require_open("sign an agreement")
        draft = await drafts.load(conn, relationship_id, for_update=True)
        if draft is None:
            raise RelationshipRuleViolation(f"relationship {relationship_id} has no agreement to sign yet")
        draft.sign(
            by,
            revision,
            deps.today(),
            confidentiality_accepted=confidentiality_accepted,
            no_fault_acknowledged=no_fault_acknowledged,
        )
        events = relationship.conclude_agreement(draft, deps.today())
        draft.concluded = bool(events)
        await drafts.save(conn, draft)
        await commit(conn, deps, relationship, events, correlation_id=correlation_id)
        return draft
