"""Record delivery intents, one per (cause, recipient, channel), in the caller's transaction.

Nothing is sent here: a redelivered event finds its intents already recorded (the cause-derived key)
and adds none.  The delivery worker is woken on commit.  A digest reader's intents are held, and the
digest timer for the next digest hour is set for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.notifications.application.deps import Deps
from services.notifications.application.ports import HELD, Candidate
from services.notifications.domain.audience import Notice
from services.notifications.domain.causes import notification_id
from services.notifications.domain.reminders import next_digest_at
from shared.ports import Conn

DIGEST = "digest"
"""The digest's timer kind and template."""


async def record(deps: Deps, conn: Conn, cause_id: str, notices: Sequence[Notice]) -> int:
    """All of a cause's intents in one port call (one statement): this runs in the consumer's transaction
    for every event, so its round trips to the database set the pace of the consumer."""
    candidates: dict[uuid.UUID, Candidate] = {}
    channels = sorted(deps.channels_available)
    for notice in notices:
        for channel in channels:
            nid = notification_id(cause_id, notice.recipient_id, channel)
            candidates.setdefault(nid, Candidate(nid, notice, channel))
    if not candidates:
        return 0
    now = deps.clock.now()
    recorded = await deps.intents.record(conn, cause_id, list(candidates.values()), now, deps.options.default_channels)
    for recipient in dict.fromkeys(r.recipient_id for r in recorded if r.status == HELD):
        due = next_digest_at(now, deps.options.digest_hour_utc)
        await deps.timers.schedule(conn, f"digest:{recipient}:{due.date()}", DIGEST, recipient, due)
    return len(recorded)
