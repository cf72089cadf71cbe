"""Meeting notes and survey comments: sealed before they reach the database, opened only for the parties."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from services.relationships.adapters.cipher import Cipher, Sealed

Kind = Literal["meeting_note", "feedback_comment"]


@dataclass(frozen=True)
class ConfidentialText:
    record_id: str
    author_id: str
    text: str
    written_at: datetime


def _context(kind: Kind, relationship_id: str, record_id: str) -> str:
    return f"{kind}/{relationship_id}/{record_id}"


async def write(
    conn: asyncpg.Connection,
    cipher: Cipher,
    kind: Kind,
    relationship_id: str,
    record_id: str,
    author_id: str,
    text: str,
    at: datetime,
) -> None:
    sealed = cipher.seal(text, _context(kind, relationship_id, record_id))
    await conn.execute(
        "INSERT INTO confidential_texts (kind, record_id, relationship_id, author_id, key_id, nonce, ciphertext,"
        " written_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        kind,
        record_id,
        relationship_id,
        author_id,
        sealed.key_id,
        sealed.nonce,
        sealed.ciphertext,
        at,
    )


async def read(conn: asyncpg.Connection, cipher: Cipher, kind: Kind, relationship_id: str) -> list[ConfidentialText]:
    rows = await conn.fetch(
        "SELECT record_id, author_id, key_id, nonce, ciphertext, written_at FROM confidential_texts"
        " WHERE kind = $1 AND relationship_id = $2 ORDER BY written_at, record_id",
        kind,
        relationship_id,
    )
    return [
        ConfidentialText(
            r["record_id"],
            r["author_id"],
            cipher.open(
                Sealed(r["key_id"], r["nonce"], r["ciphertext"]), _context(kind, relationship_id, r["record_id"])
            ),
            r["written_at"],
        )
        for r in rows
    ]
