"""Webhook signature: HMAC-SHA256 over ``<timestamp>.<body>`` with the institution's shared secret.

The timestamp is signed too, so a captured request cannot be replayed later
with a fresh timestamp header; receivers reject old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Mentorship-Signature"
TIMESTAMP_HEADER = "X-Mentorship-Timestamp"
NOTIFICATION_HEADER = "X-Mentorship-Notification-Id"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Refuses an empty secret: anyone can make that signature."""
    if not secret:
        raise ValueError("an empty webhook secret signs nothing")
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Never true for an empty secret."""
    return bool(secret) and hmac.compare_digest(sign(secret, timestamp, body), signature)
