"""Groups and peer circles.  Pure.

- ``check_group``: what the director's group must be (a group program, enrolled mentors, 1..group_size_max
  enrolled mentees free in the program, nobody twice).
- ``build_circles``: peer circles of a given size on pairwise compatibility (the bulk run of a peer program).

**The circle rule.** With circle size ``s``, a circle holds ``lo = max(2, s - 1)`` to ``hi = min(20, s + 1)``
peers.  ``n`` peers make ``k = ceil(n / hi)`` circles whose sizes differ by at most one (``n // k`` or
``n // k + 1``) when that leaves none below ``lo`` (``k * lo <= n``): everyone is placed.  Otherwise (few peers
for the size, e.g. 13 peers in circles of 10) ``n // hi`` circles of ``hi`` are formed and the rest, fewer than
``lo``, stay unplaced (the run reports them; below ``lo`` peers no circle forms).  The circles are filled
greedily: each circle starts from the unplaced peer with the lowest total compatibility to the others (the
hardest to place), then repeatedly takes the unplaced peer with the highest mean compatibility to the circle's
members so far, until it holds its size.  Ties go to the smaller id, so a run is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from services.matching.domain.errors import InvalidCommand
from services.matching.domain.program import MAX_GROUP, Program


def check_group(
    program: Program,
    mentor_ids: Sequence[str],
    mentee_ids: Sequence[str],
    roles: Mapping[str, str | None],
    free: Collection[str],
) -> None:
    """``roles``: each named person's role in the program (None: not enrolled); ``free``: the mentees with no
    mentor, group or open request in the program.  In a peer program the director forms a circle: no mentor,
    2 to 20 enrolled peers."""
    if program.model == "peer":
        if mentor_ids:
            raise InvalidCommand("mentor_ids", "a peer circle has no mentor")
        if not 2 <= len(mentee_ids) <= MAX_GROUP:
            raise InvalidCommand("mentee_ids", f"a peer circle has 2 to {MAX_GROUP} members")
    elif program.model != "group":
        raise InvalidCommand("program_id", f"program {program.program_id} is neither a group nor a peer program")
    if program.model == "group" and not mentor_ids:
        raise InvalidCommand("mentor_ids", "a group has at least one mentor")
    if not mentee_ids:
        raise InvalidCommand("mentee_ids", "a group has at least one mentee")
    largest = (program.s.group_size_max if program.model == "group" else None) or MAX_GROUP
    if len(mentee_ids) > largest:
        raise InvalidCommand("mentee_ids", f"the program's groups have at most {largest} mentees")
    if len(set(mentor_ids)) != len(mentor_ids):
        raise InvalidCommand("mentor_ids", "mentors must be distinct")
    if len(set(mentee_ids)) != len(mentee_ids):
        raise InvalidCommand("mentee_ids", "mentees must be distinct")
    if set(mentor_ids) & set(mentee_ids):
        raise InvalidCommand("mentee_ids", "nobody is both a mentor and a mentee of one group")
    for mentor_id in mentor_ids:
        if roles.get(mentor_id) != "mentor":
            raise InvalidCommand("mentor_ids", f"{mentor_id} is not enrolled as a mentor in this program")
    role = "peer" if program.model == "peer" else "mentee"
    for mentee_id in mentee_ids:
        if roles.get(mentee_id) != role:
            raise InvalidCommand("mentee_ids", f"{mentee_id} is not enrolled as a {role} in this program")
    busy = sorted(set(mentee_ids) - set(free))
    if busy:
        raise InvalidCommand("mentee_ids", f"already in a group, matched or asking in this program: {', '.join(busy)}")


def circle_bounds(size: int) -> tuple[int, int]:
    return max(2, size - 1), min(MAX_GROUP, size + 1)


def circle_sizes(n: int, size: int) -> list[int]:
    """The circles' sizes for ``n`` peers (see the module docstring)."""
    lo, hi = circle_bounds(size)
    k = -(-n // hi)
    if k * lo > n:
        return [hi] * (n // hi)
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def build_circles(peer_ids: Sequence[str], size: int, score: Callable[[str, str], int]) -> list[list[str]]:
    """Circles of about ``size`` peers, greedy on the symmetric pairwise ``score`` (higher is better)."""
    ids = sorted(peer_ids)
    pair = {(a, b): score(a, b) for a in ids for b in ids if a < b}

    def s(a: str, b: str) -> int:
        return pair[(a, b)] if a < b else pair[(b, a)]

    unplaced = list(ids)
    circles: list[list[str]] = []
    for target in circle_sizes(len(ids), size):
        seed = min(unplaced, key=lambda p: (sum(s(p, q) for q in unplaced if q != p), p))
        circle = [seed]
        unplaced.remove(seed)
        while len(circle) < target:
            best = max(unplaced, key=lambda p: (sum(s(p, c) for c in circle) / len(circle), _neg(p)))
            circle.append(best)
            unplaced.remove(best)
        circles.append(sorted(circle))
    return circles


def circle_score(circle: Sequence[str], score: Callable[[str, str], int]) -> int:
    """The circle's mean pairwise compatibility, 0-100."""
    pairs = [(a, b) for i, a in enumerate(circle) for b in circle[i + 1 :]]
    return round(sum(score(a, b) for a, b in pairs) / len(pairs)) if pairs else 0


def _neg(text: str) -> tuple[int, ...]:
    """Sorts ids in reverse, so ``max`` prefers the smaller id on a tie."""
    return (*(-ord(c) for c in text), 1)
