"""The ``AgreementDrafts`` port on Postgres; read FOR UPDATE so two proposals or signatures never race."""

from __future__ import annotations

from datetime import date

import asyncpg

from services.relationships.domain.agreement import AgreementDraft, AgreementTerms


class PostgresAgreementDrafts:
    async def load(
        self, conn: asyncpg.Connection, relationship_id: str, *, for_update: bool = False
    ) -> AgreementDraft | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await conn.fetchrow(
            f"SELECT revision, terms, proposed_by, signatures, concluded FROM agreement_drafts"
            f" WHERE relationship_id = $1{lock}",
            relationship_id,
        )
        if row is None:
            return None
        return AgreementDraft(
            relationship_id,
            row["revision"],
            AgreementTerms.model_validate(row["terms"]),
            row["proposed_by"],
            {party: date.fromisoformat(on) for party, on in row["signatures"].items()},
            row["concluded"],
        )

    async def save(self, conn: asyncpg.Connection, draft: AgreementDraft) -> None:
        await conn.execute(
            """
            INSERT INTO agreement_drafts (relationship_id, revision, terms, proposed_by, signatures, concluded)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (relationship_id) DO UPDATE SET
                revision = EXCLUDED.revision, terms = EXCLUDED.terms, proposed_by = EXCLUDED.proposed_by,
                signatures = EXCLUDED.signatures, concluded = EXCLUDED.concluded, updated_at = now()
            """,
            draft.relationship_id,
            draft.revision,
            draft.terms.model_dump(mode="json"),
            draft.proposed_by,
            {party: on.isoformat() for party, on in draft.signatures.items()},
            draft.concluded,
        )

    async def forget_party(self, conn: asyncpg.Connection, participant_id: str, erased: str) -> int:
        """Goal texts, measures and milestone titles of every draft of the person's relationships become
        ``erased``; ids, dates and signatures stay."""
        status = await conn.execute(_FORGET_PARTY, participant_id, erased)
        return int(status.split()[-1])


_FORGET_PARTY = """
UPDATE agreement_drafts d SET updated_at = now(), terms = d.terms
    || jsonb_build_object('goals', (
        SELECT coalesce(jsonb_agg(g || jsonb_build_object('text', $2::text, 'measure', $2::text)), '[]'::jsonb)
        FROM jsonb_array_elements(coalesce(d.terms -> 'goals', '[]'::jsonb)) g))
    || jsonb_build_object('development_plan', (
        SELECT coalesce(jsonb_agg(m || jsonb_build_object('title', $2::text)), '[]'::jsonb)
        FROM jsonb_array_elements(coalesce(d.terms -> 'development_plan', '[]'::jsonb)) m))
WHERE d.relationship_id IN (SELECT relationship_id FROM relationship_view
                            WHERE mentor_id = $1 OR $1 = ANY(co_mentor_ids) OR $1 = ANY(mentee_ids)
                               OR $1 = ANY(left_ids))
"""
