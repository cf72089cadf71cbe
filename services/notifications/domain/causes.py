"""A notification is identified by its cause: (cause id, recipient, channel).

The id is derived, not drawn, so every replica and every restart computes the
same one; e-mail carries it as the Message-ID and webhooks as a header, so a
receiver can drop a copy it already has.
"""

from __future__ import annotations

import uuid
from datetime import datetime

_NAMESPACE = uuid.UUID("6f1c9a52-5d7e-4d0e-9d8a-2b7f0c4e9a10")


def notification_id(cause_id: str, recipient_id: str, channel: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{cause_id}|{recipient_id}|{channel}")


def message_id(notification: uuid.UUID, domain: str) -> str:
    return f"<{notification}@{domain}>"


def timer_cause_id(timer_key: str, due_at: datetime) -> str:
    """A fired reminder is a cause of its own: one per timer and due time."""
    return str(uuid.uuid5(_NAMESPACE, f"timer|{timer_key}|{due_at.isoformat()}"))
