"""The content hash of a bulk HR import row, one definition for both ends of the import.  Pure.

Profiles keeps the hash of every imported row whose fact it keeps (``hr_import_rows``); the CLI hashes each
row of a file the same way and asks profiles which hashes it knows, so a nightly snapshot in which nothing
changed sends hashes, not rows (bench/hr_import.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

ROW_HASH_BYTES = 16


def row_hash(fields: Mapping[str, Any]) -> bytes:
    """The row's fields as sent (JSON, keys sorted) hashed: the same content, the same hash, whatever the order
    of its keys; parsing a row depends on nothing else, so the same hash is the same parsed row and fact."""
    return hashlib.blake2b(msgspec.json.encode(fields, order="sorted"), digest_size=ROW_HASH_BYTES).digest()
