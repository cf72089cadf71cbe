"""A request's status as a timeline: submitted, reviewed (or declined), forwarded to choice 1, 2, 3 with the deadline,
passed on (declined or expired), matched, unmatched (then with the director) or withdrawn.

From matching's history of the request when it offers one (``history``: its events, oldest first, each
``{"type", "at", "data"}``), otherwise derived from the request's current view: which mentors it was forwarded to and
where it stands now. Pure: the page renders the steps in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Kind = Literal[
    "submitted",
    "awaiting_review",
    "reviewed",
    "declined",
    "forwarded",
    "mentor_declined",
    "expired",
    "passed_on",
    "matched",
    "unmatched",
    "withdrawn",
    "next_choice",
]
State = Literal["done", "current", "pending", "bad"]
OPEN = ("submitted", "forwarded")


@dataclass(frozen=True)
class Step:
    kind: Kind
    state: State
    at: datetime | None = None
    rank: int | None = None
    mentor_id: str | None = None
    deadline: datetime | None = None
    reason: str | None = None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _rank(view: Mapping[str, Any], mentor_id: str, fallback: int) -> int:
    ranked = list(view.get("ranked_mentor_ids") or ())
    return ranked.index(mentor_id) + 1 if mentor_id in ranked else fallback


def timeline(view: Mapping[str, Any], history: Sequence[Mapping[str, Any]] | None = None) -> list[Step]:
    steps = _from_history(view, history) if history else _from_view(view)
    return steps + _still_to_come(view, steps)


def _from_view(view: Mapping[str, Any]) -> list[Step]:
    status = view.get("status")
    steps = [Step("submitted", "done", _time(view.get("submitted_at")))]
    forwarded = list(view.get("forwarded_to") or ())
    updated = _time(view.get("updated_at"))
    if status == "submitted":
        return [*steps, Step("awaiting_review", "current")]
    if status == "declined" and not forwarded:
        return [*steps, Step("declined", "bad", updated, reason=view.get("decline_reason"))]
    if status == "withdrawn" and not forwarded:
        return [*steps, Step("withdrawn", "done", updated)]
    if forwarded:
        steps.append(Step("reviewed", "done"))
    for i, mentor in enumerate(forwarded):
        rank = _rank(view, mentor, i + 1)
        last = i == len(forwarded) - 1
        if last and status == "forwarded":
            steps.append(
                Step("forwarded", "current", rank=rank, mentor_id=mentor, deadline=_time(view.get("respond_by")))
            )
        elif (last and status == "matched" and view.get("matched_mentor_id") == mentor) or (
            last and status == "withdrawn"
        ):
            steps.append(Step("forwarded", "done", rank=rank, mentor_id=mentor))
        else:
            steps += [
                Step("forwarded", "done", rank=rank, mentor_id=mentor),
                Step("passed_on", "bad", rank=rank, mentor_id=mentor),
            ]
    return steps + _outcome(view, updated)


def _outcome(view: Mapping[str, Any], at: datetime | None) -> list[Step]:
    status = view.get("status")
    if status == "matched":
        return [Step("matched", "done", at, mentor_id=view.get("matched_mentor_id"))]
    if status == "unmatched":
        return [Step("unmatched", "current", at)]
    if status == "withdrawn":
        return [Step("withdrawn", "done", at)]
    return []


def _from_history(view: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[Step]:
    steps: list[Step] = []
    for event in history:
        kind, at, data = event.get("type"), _time(event.get("at")), event.get("data") or {}
        mentor = data.get("mentor_id")
        rank = data.get("choice_rank")
        if kind == "RequestRanked":
            steps.append(Step("submitted", "done", at))
        elif kind == "RequestReviewed":
            approved = data.get("approved")
            steps.append(
                Step("reviewed", "done", at)
                if approved
                else Step("declined", "bad", at, reason=data.get("decline_reason"))
            )
        elif kind == "RequestForwarded":
            steps.append(Step("forwarded", "done", at, rank, mentor, _time(data.get("respond_by"))))
        elif kind == "MentorResponded" and not data.get("accepted"):
            steps.append(Step("mentor_declined", "bad", at, rank, mentor, reason=data.get("reason")))
        elif kind == "RequestExpired":
            steps.append(Step("expired", "bad", at, rank, mentor, _time(data.get("respond_by"))))
        elif kind == "MatchApproved":
            steps.append(Step("matched", "done", at, rank, mentor))
        elif kind == "RequestUnmatched":
            steps.append(Step("unmatched", "current", at))
        elif kind == "RequestWithdrawn":
            steps.append(Step("withdrawn", "done", at))
    status = view.get("status")
    if status == "submitted" and not any(s.kind in ("reviewed", "declined") for s in steps):
        steps.append(Step("awaiting_review", "current"))
    if status == "forwarded" and steps and steps[-1].kind == "forwarded":
        last = steps[-1]
        steps[-1] = Step("forwarded", "current", last.at, last.rank, last.mentor_id, last.deadline)
    return steps


def _still_to_come(view: Mapping[str, Any], steps: list[Step]) -> list[Step]:
    """While the request waits for a mentor: the choices that would be asked next."""
    if view.get("status") not in OPEN:
        return []
    asked = {s.mentor_id for s in steps if s.kind == "forwarded"}
    ranked = list(view.get("ranked_mentor_ids") or ())
    return [Step("next_choice", "pending", rank=i + 1, mentor_id=m) for i, m in enumerate(ranked) if m not in asked]


def is_open(view: Mapping[str, Any]) -> bool:
    return view.get("status") in OPEN


def countdown(deadline: datetime | None, now: datetime) -> tuple[int, int] | None:
    """Whole days and hours left until ``deadline`` (``(0, 0)`` once it passed); None without one."""
    if deadline is None:
        return None
    seconds = max(int((deadline - now).total_seconds()), 0)
    return seconds // 86400, (seconds % 86400) // 3600
