"""A request's status as a timeline, from its events: what the mentee follows, step by step.  Pure.

Each step is a plain dict (``at``, ``step`` and the step's facts).  Who reads which steps:

- the director reads every step with every reason;
- the request's mentee reads every step, with the director's decline reason and their own withdrawal
  reason, but not the reason a mentor gave for declining (that one is the director's);
- a mentor it was forwarded to reads only the steps about their own turn (forwarded to them, their
  answer, their deadline passed, matched with them), never another mentor's turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.events import Event
from shared.events.matching import (
    MatchApproved,
    MentorResponded,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
    RequestWithdrawn,
)


def _step(event: Event) -> dict[str, Any] | None:
    match event:
        case RequestRanked():
            return {"step": "submitted", "ranked_mentor_ids": list(event.ranked_mentor_ids)}
        case RequestReviewed(approved=True):
            return {"step": "approved"}
        case RequestReviewed():
            return {"step": "declined", "reason": event.decline_reason}
        case RequestForwarded():
            return {
                "step": "forwarded",
                "mentor_id": event.mentor_id,
                "choice_rank": event.choice_rank,
                "respond_by": event.respond_by,
            }
        case MentorResponded():
            return {
                "step": "mentor_accepted" if event.accepted else "mentor_declined",
                "mentor_id": event.mentor_id,
                "choice_rank": event.choice_rank,
                "mentor_reason": event.reason,
            }
        case RequestExpired():
            return {"step": "expired", "mentor_id": event.mentor_id, "choice_rank": event.choice_rank}
        case RequestUnmatched():
            return {"step": "unmatched", "tried_mentor_ids": list(event.tried_mentor_ids)}
        case MatchApproved():
            return {"step": "matched", "mentor_id": event.mentor_id, "mode": event.mode}
        case RequestWithdrawn():
            return {"step": "withdrawn", "reason": event.reason}
    return None


def timeline(
    history: Sequence[tuple[Event, datetime]], reader: str, *, mentee_id: str, director: bool
) -> list[dict[str, Any]]:
    """The steps of a request's history, oldest first, as ``reader`` may read them (see the module's rules);
    the caller has checked that ``reader`` may read the request at all."""
    steps = []
    for event, at in history:
        step = _step(event)
        if step is None:
            continue
        step = {"at": at, **step}
        if director:
            steps.append(step)
        elif reader == mentee_id:
            step.pop("mentor_reason", None)
            steps.append(step)
        elif step.get("mentor_id") == reader:
            steps.append(step)
    return steps
