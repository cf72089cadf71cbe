"""The mentee's ranked choices while they compose a request: one to three distinct mentors, reordered with up and
down buttons that are plain form buttons (no JavaScript needed)."""

from __future__ import annotations

MAX_CHOICES = 3


def rearrange(ranked: list[str], action: str, candidate: str = "") -> list[str]:
    """``ranked`` after ``action``: ``add`` (the ``candidate``), ``up:<i>``, ``down:<i>`` or ``remove:<i>``
    (``i`` from 0). Anything else, or a move past either end, leaves the order as it was."""
    order = list(dict.fromkeys(m for m in ranked if m))[:MAX_CHOICES]
    verb, _, index_text = action.partition(":")
    if verb == "add":
        if candidate and candidate not in order and len(order) < MAX_CHOICES:
            order.append(candidate)
        return order
    if not index_text.isdigit() or int(index_text) >= len(order):
        return order
    i = int(index_text)
    if verb == "up" and i > 0:
        order[i - 1], order[i] = order[i], order[i - 1]
    elif verb == "down" and i < len(order) - 1:
        order[i + 1], order[i] = order[i], order[i + 1]
    elif verb == "remove":
        del order[i]
    return order
