"""Meeting notes and survey comments: sealed before they reach storage, opened only for the relationship's parties.

The cipher's context binds a ciphertext to its row (kind, relationship, record), so a sealed text
moved to another relationship or record no longer opens.
"""

from __future__ import annotations

from services.relationships.application.container import Container
from services.relationships.application.ports import ConfidentialText, Kind, SealedText
from services.relationships.domain.errors import ConfidentialToParties, NotAParty
from shared.ports import Conn

WHAT: dict[Kind, str] = {"meeting_note": "meeting notes", "feedback_comment": "survey comments"}


def context(kind: Kind, relationship_id: str, record_id: str) -> str:
    return f"{kind}/{relationship_id}/{record_id}"


async def keep(
    c: Container, conn: Conn, kind: Kind, relationship_id: str, record_id: str, author_id: str, text: str
) -> None:
    """Seal ``text`` and store it in the caller's transaction."""
    sealed = c.cipher.seal(text, context(kind, relationship_id, record_id))
    await c.texts.write(conn, SealedText(kind, record_id, relationship_id, author_id, sealed, c.clock.now()))


async def read_texts(
    c: Container, relationship_id: str, reader: str, kind: Kind, *, director: bool = False
) -> list[ConfidentialText]:
    """Only the relationship's own parties; the program director (403) and analysts never read these, and to
    anyone else the relationship is not found (404)."""
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        if not relationship.is_party(reader) and director:
            raise ConfidentialToParties(
                f"{WHAT[kind]} are confidential to the parties of relationship {relationship_id}"
            )
        if not relationship.is_party(reader):
            raise NotAParty(relationship_id)
        stored = await c.texts.read(conn, kind, relationship_id)
    return [
        ConfidentialText(
            t.record_id, t.author_id, c.cipher.open(t.sealed, context(kind, relationship_id, t.record_id)), t.written_at
        )
        for t in stored
    ]
