"""Crypto-shredding: a data key per person (``person_keys``), AES-256-GCM seals their personal fields.

Shredding deletes the key; what was sealed under it can never be read again,
wherever the ciphertext was copied.  ``PersonalData`` is the event store's codec:
the store (built once in ``bootstrap.py``) seals a payload before it is stored and
opens it on every read (``read_stream``, the relay), so nothing else opens payloads.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import JsonValue

from services.profiles.domain.personal_data import is_sealed, open_payload, seal_payload


class PersonalData:
    """The event store's codec (``shared.eventstore.PayloadCodec``) and the ``PersonalKeys`` port."""

    async def seal(self, conn: asyncpg.Connection, participant_id: str, event_type: str, data: dict) -> dict:
        key = await key_for(conn, participant_id, create=True)
        cipher = AESGCM(key)

        def seal(value: JsonValue) -> str:
            nonce = os.urandom(12)
            sealed = cipher.encrypt(nonce, json.dumps(value).encode(), participant_id.encode())
            return base64.b64encode(nonce + sealed).decode()

        return seal_payload(event_type, data, seal)

    async def seal_many(self, conn: asyncpg.Connection, items: list[tuple[str, str, dict]]) -> list[dict]:
        """``seal`` for many ``(participant_id, event_type, data)`` at once: the keys in two round trips."""
        keys = await keys_for(conn, sorted({participant_id for participant_id, _, _ in items}))
        ciphers = {participant_id: AESGCM(key) for participant_id, key in keys.items()}
        sealed = []
        for participant_id, event_type, data in items:
            cipher, associated = ciphers[participant_id], participant_id.encode()

            def seal(value: JsonValue, cipher: AESGCM = cipher, associated: bytes = associated) -> str:
                nonce = os.urandom(12)
                return base64.b64encode(nonce + cipher.encrypt(nonce, json.dumps(value).encode(), associated)).decode()

            sealed.append(seal_payload(event_type, data, seal))
        return sealed

    async def open(self, conn: asyncpg.Connection, participant_id: str, event_type: str, data: dict) -> dict:
        if not is_sealed(data):
            return data
        key = await key_for(conn, participant_id, create=False)
        if key is None:
            return open_payload(event_type, data, None)
        cipher = AESGCM(key)

        def reveal(token: str) -> Any:
            raw = base64.b64decode(token)
            try:
                return json.loads(cipher.decrypt(raw[:12], raw[12:], participant_id.encode()))
            except InvalidTag as exc:
                raise ValueError(f"a sealed field of {participant_id} does not open with their key") from exc

        return open_payload(event_type, data, reveal)

    async def shred(self, conn: asyncpg.Connection, participant_id: str) -> None:
        await conn.execute(
            "INSERT INTO person_keys (participant_id, data_key, shredded_at) VALUES ($1, NULL, now())"
            " ON CONFLICT (participant_id) DO UPDATE SET data_key = NULL, shredded_at = now()",
            participant_id,
        )


async def key_for(conn: asyncpg.Connection, participant_id: str, *, create: bool) -> bytes | None:
    """The person's key; None once shredded (a shredded key is never re-created)."""
    if create:
        await conn.execute(
            "INSERT INTO person_keys (participant_id, data_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            participant_id,
            AESGCM.generate_key(bit_length=256),
        )
    return await conn.fetchval("SELECT data_key FROM person_keys WHERE participant_id = $1", participant_id)


async def keys_for(conn: asyncpg.Connection, participant_ids: list[str]) -> dict[str, bytes]:
    """Each person's key, created where missing; a person whose key is shredded has none (and gets none)."""
    await conn.execute(
        "INSERT INTO person_keys (participant_id, data_key) SELECT * FROM unnest($1::text[], $2::bytea[])"
        " ORDER BY 1 ON CONFLICT DO NOTHING",
        participant_ids,
        [AESGCM.generate_key(bit_length=256) for _ in participant_ids],
    )
    rows = await conn.fetch(
        "SELECT participant_id, data_key FROM person_keys WHERE participant_id = ANY($1::text[])", participant_ids
    )
    return {r["participant_id"]: r["data_key"] for r in rows if r["data_key"] is not None}
