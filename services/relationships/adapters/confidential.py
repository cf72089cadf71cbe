"""The ``ConfidentialTexts`` port on Postgres: sealed notes and comments, never plaintext."""

from __future__ import annotations

import asyncpg

from services.relationships.application.ports import Kind, Sealed, SealedText


class PostgresConfidentialTexts:
    async def write(self, conn: asyncpg.Connection, text: SealedText) -> None:
        await conn.execute(
            "INSERT INTO confidential_texts (kind, record_id, relationship_id, author_id, key_id, nonce, ciphertext,"
            " written_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            text.kind,
            text.record_id,
            text.relationship_id,
            text.author_id,
            text.sealed.key_id,
            text.sealed.nonce,
            text.sealed.ciphertext,
            text.written_at,
        )

    async def read(self, conn: asyncpg.Connection, kind: Kind, relationship_id: str) -> list[SealedText]:
        rows = await conn.fetch(
            "SELECT record_id, author_id, key_id, nonce, ciphertext, written_at FROM confidential_texts"
            " WHERE kind = $1 AND relationship_id = $2 ORDER BY written_at, record_id",
            kind,
            relationship_id,
        )
        return [
            SealedText(
                kind,
                r["record_id"],
                relationship_id,
                r["author_id"],
                Sealed(r["key_id"], r["nonce"], r["ciphertext"]),
                r["written_at"],
            )
            for r in rows
        ]

    async def forget_author(self, conn: asyncpg.Connection, author_id: str) -> int:
        status = await conn.execute("DELETE FROM confidential_texts WHERE author_id = $1", author_id)
        return int(status.split()[-1])
