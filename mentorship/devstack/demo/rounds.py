"""Rounds: the planned calls of one simulated day that the driver makes together, and what each must wait for.

Pure.  The driver used to make every call on its own, one after the other, with the dev clock on the call's
own minute (5,646 calls one after another: 84 s of a 137 s demo).  A round is a run of the script's actions
on one simulated (UTC) day that no settle boundary, no timer due and no closure cuts; the clock stands at the
round's first action while its calls go out together, each waiting only for the earlier calls of the round
that touch the same person, request or relationship (``dependencies``).  So:

- the order of everything a service decides about one person, request or relationship is the plan's;
- no timer fires inside a round (it ends before the next one due), so timers fire between the same calls
  as before, on their own due moment;
- a call is stamped at most the hours of one working day before its planned moment, and so are the timers
  it sets: a response deadline 7 days after a review comes a few hours early, still hours after the latest
  planned answer (``plan.py`` answers within about 6.6 days);
- a closure ends its round: matching must follow it (the slot it frees) before its next decision on a
  mentor's load, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mentorship.devstack.demo.plan import Action, Plan

Script = Sequence[tuple[datetime, Action | None]]
"""The plan's actions and settle boundaries (``None``) in the order the driver plays them."""


def take(script: Script, start: int, next_due: datetime | None) -> int:
    """The end of the round that begins at ``script[start]`` (an action): ``script[start:end]`` is the round.

    It runs on while the actions are on the first one's day, before ``next_due`` (the earliest timer not yet
    fired, ``None``: none) and before the next boundary, and stops after a closure (``settle_after``).
    """
    first_at, first = script[start]
    assert first is not None, "a round begins with an action"
    end = start + 1
    if first.settle_after:
        return end
    while end < len(script):
        at, action = script[end]
        if action is None or at.date() != first_at.date() or (next_due is not None and at >= next_due):
            break
        end += 1
        if action.settle_after:
            break
    return end


class Entities:
    """Who and what an action touches: the people, requests (a direct match is its request) and pairs."""

    def __init__(self, plan: Plan) -> None:
        self.ranked: dict[str, list[str]] = {}  # plan request key → the mentors it ranks
        for action in plan.actions:
            if action.kind == "request":
                self.ranked[action.data["request"]] = list(action.data["ranked"])

    def of(self, action: Action) -> set[str]:
        d = action.data
        keys = set() if action.actor in ("director", "hr") else {f"person:{action.actor}"}
        for field in ("employee", "person", "mentee", "mentor"):
            if d.get(field):
                keys.add(f"person:{d[field]}")
        for field in ("request", "match"):
            if d.get(field):
                keys.add(f"request:{d[field]}")
        if action.kind in ("request", "review", "respond"):
            # matching forwards a request to its first ranked mentor with a free slot: it weighs their load
            keys |= {f"person:{m}" for m in self.ranked.get(d["request"], ())}
        if d.get("pair"):
            keys.add(f"pair:{d['pair']}")
        return keys


def dependencies(keys: Sequence[set[str]]) -> list[set[int]]:
    """For each action of a round (given what it touches), the earlier ones it waits for: the last before it that
    touches each of the same things (which waited for theirs)."""
    last: dict[str, int] = {}
    after: list[set[int]] = []
    for index, touched in enumerate(keys):
        after.append({last[k] for k in touched if k in last})
        for k in touched:
            last[k] = index
    return after


def rounds_of(plan: Plan, dues: Sequence[datetime] = ()) -> list[list[Action]]:
    """The plan's rounds when no timer cuts them (``dues``: moments a timer is due, for tests): what the driver
    makes together at most."""
    script = playing_order(plan)
    due_times = sorted(dues)
    found: list[list[Action]] = []
    index = 0
    while index < len(script):
        at, action = script[index]
        if action is None:
            index += 1
            continue
        next_due = next((d for d in due_times if d > at), None)
        end = take(script, index, next_due)
        found.append([a for _, a in script[index:end] if a is not None])
        index = end
    return found


def playing_order(plan: Plan) -> list[tuple[datetime, Action | None]]:
    """The plan's actions and its settle boundaries in time order, a boundary before the actions of its moment."""
    items: list[tuple[datetime, int, Action | None]] = [(a.at, 1, a) for a in plan.actions]
    items += [(b, 0, None) for b in plan.boundaries()]
    items.sort(key=lambda item: (item[0], item[1]))
    return [(at, action) for at, _, action in items]
