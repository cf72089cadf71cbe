"""The rules of a bulk run's life, and the proposal computed on the pure solvers.  Pure.

A cohort is the named mentees (each registered, active, with no open request and no mentor) or all such
mentees; pins and forbidden pairs name cohort mentees and active mentors, and a pin never puts a mentor
above their mentee in the reporting line.  Only a proposed run can be committed or discarded, and a commit
refuses mentees who since got a request or a mentor, or left.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from services.matching.domain.bulk_report import BulkReport
from services.matching.domain.bulk_run import BulkRun, Mode, run_bulk_match
from services.matching.domain.candidates import build_candidates
from services.matching.domain.cohort import Cohort
from services.matching.domain.compatibility import MenteeProfile, MentorProfile, Weights, score
from services.matching.domain.errors import InvalidCommand, MatchingRuleViolation, NotFound
from services.matching.domain.hard_filters import InReportingLine, default_filters
from services.matching.domain.overrides import OverrideConflict, Overrides

_NAMESPACE = uuid.UUID("a4d7e3f0-2b51-4f0e-9c61-7e2b9f4d8c13")
ALL_FREE_MENTEES = "all mentees with no open request and no mentor"


def bulk_match_id(run_id: str, mentee_id: str) -> str:
    """A bulk match's stream: deterministic per run and mentee."""
    return str(uuid.uuid5(_NAMESPACE, f"{run_id}/{mentee_id}"))


def check_named_cohort(mentee_ids: Sequence[str], active: Mapping[str, bool], free: Collection[str]) -> None:
    """``active``: the registered ones among ``mentee_ids``; ``free``: those with no open request and no mentor."""
    if len(set(mentee_ids)) != len(mentee_ids):
        raise InvalidCommand("mentee_ids", "mentee ids must be distinct")
    unknown = sorted(set(mentee_ids) - set(active))
    if unknown:
        raise InvalidCommand("mentee_ids", f"not registered mentees: {', '.join(unknown)}")
    inactive = sorted(i for i, is_active in active.items() if not is_active)
    if inactive:
        raise InvalidCommand("mentee_ids", f"deactivated mentees: {', '.join(inactive)}")
    busy = sorted(set(mentee_ids) - set(free))
    if busy:
        raise InvalidCommand("mentee_ids", f"these mentees have an open request or a mentor: {', '.join(busy)}")


def check_cohort(mentees: Sequence[MenteeProfile], mentors: Sequence[MentorProfile]) -> None:
    if not mentees:
        raise InvalidCommand("mentee_ids", "the cohort is empty: no mentee without an open request or a mentor")
    if not mentors:
        raise MatchingRuleViolation("there are no active mentors to match")


def overrides_for(
    mentees: Sequence[MenteeProfile],
    mentors: Sequence[MentorProfile],
    pinned: Mapping[str, str],
    forbidden: Sequence[tuple[str, str]],
    line: Mapping[str, str],
) -> Overrides:
    mentee_ids, mentor_ids = {m.mentee_id for m in mentees}, {m.mentor_id for m in mentors}
    for field, pairs in (("pinned", list(pinned.items())), ("forbidden", list(forbidden))):
        for mentee_id, mentor_id in pairs:
            if mentee_id not in mentee_ids:
                raise InvalidCommand(field, f"mentee {mentee_id} is not in the cohort")
            if mentor_id not in mentor_ids:
                raise InvalidCommand(field, f"{mentor_id} is not an active mentor")
    above = InReportingLine(line)
    for mentee_id, mentor_id in pinned.items():
        if mentee_id == mentor_id:
            raise InvalidCommand("pinned", f"{mentee_id} cannot mentor themselves")
        if mentor_id in above.line_above(mentee_id):
            raise InvalidCommand("pinned", f"mentor {mentor_id} is in mentee {mentee_id}'s reporting line")
    return Overrides(pinned=dict(pinned), forbidden=frozenset(tuple(p) for p in forbidden))


def propose(
    mentees: list[MenteeProfile],
    mentors: list[MentorProfile],
    weights: Weights,
    overrides: Overrides,
    mode: Mode,
    line: Mapping[str, str],
    k: int,
) -> BulkRun:
    """The run over the cohort (CPU-bound: callers run it off the event loop)."""
    cohort = Cohort(mentees, mentors)
    try:
        graph = build_candidates(cohort, weights, k=k, overrides=overrides, filters=default_filters(line))
        return run_bulk_match(graph, mode, overrides)
    except OverrideConflict as exc:
        raise InvalidCommand("pinned", str(exc)) from exc


def report_of(run: BulkRun) -> dict[str, Any]:
    """The run's report as the bulk run view shows it (JSON-ready)."""
    report = asdict(run.report)
    report["by_choice"] = list(report["by_choice"])
    price = run.report.price_of_stability
    report["price_of_stability"] = price if math.isfinite(price) else None
    report["text"] = run.report.summary()
    return report


def check_proposed(run_id: str, status: str | None) -> None:
    """Only a proposed run can be committed or discarded (``status`` None: no such run)."""
    if status is None:
        raise NotFound(f"no bulk run {run_id}")
    if status != "proposed":
        raise MatchingRuleViolation(f"bulk run {run_id} is already {status}")


def check_still_free(mentee_ids: Sequence[str], free: Collection[str]) -> None:
    busy = sorted(set(mentee_ids) - set(free))
    if busy:
        raise MatchingRuleViolation(
            f"since the run was proposed these mentees got an open request or a mentor, or left: {', '.join(busy)}"
        )


# --- priority groups (issue 17) -------------------------------------------------------------------------------

PRIORITY_BONUS = 15
"""Policy "weight": points added to a priority-group mentee's compatibility with every mentor (capped at 100)."""


def propose_with_priority(
    mentees: list[MenteeProfile],
    mentors: list[MentorProfile],
    weights: Weights,
    overrides: Overrides,
    mode: Mode,
    line: Mapping[str, str],
    k: int,
    *,
    priority: Collection[str],
    policy: str,
) -> BulkRun:
    """The run honouring the program's priority groups (``priority``: the cohort's mentees in one of them).

    - ``"first"``: the priority mentees are matched first, on every mentor's open slots; the others then take
      the capacity that is left (two runs; one report over both).
    - ``"weight"``: one run in which every candidate pair of a priority mentee scores ``PRIORITY_BONUS`` more
      (capped at 100), so they win close contests for a mentor without overriding large differences.
    """
    first = [m for m in mentees if m.mentee_id in priority]
    if not first or (policy == "first" and len(first) == len(mentees)):
        return propose(mentees, mentors, weights, overrides, mode, line, k)
    if policy == "weight":
        cohort = Cohort(mentees, mentors)
        try:
            graph = build_candidates(cohort, weights, k=k, overrides=overrides, filters=default_filters(line))
            boosted = np.array([m in priority for m in graph.mentee_ids], dtype=bool)
            per_edge = np.repeat(boosted, np.diff(graph.indptr))
            graph = replace(graph, score=np.where(per_edge, np.minimum(graph.score + PRIORITY_BONUS, 100), graph.score))
            return run_bulk_match(graph, mode, overrides)
        except OverrideConflict as exc:
            raise InvalidCommand("pinned", str(exc)) from exc
    ids = {m.mentee_id for m in first}
    rest = [m for m in mentees if m.mentee_id not in ids]
    run1 = propose(first, mentors, weights, _only(overrides, ids), mode, line, k)
    used = Counter(p.mentor_id for p in run1.pairs)
    left = [replace(m, active_mentees=m.active_mentees + used[m.mentor_id]) for m in mentors]
    run2 = propose(rest, left, weights, _only(overrides, {m.mentee_id for m in rest}), mode, line, k)
    return _combined(run1, run2)


def _only(overrides: Overrides, mentee_ids: Collection[str]) -> Overrides:
    return Overrides(
        pinned={m: t for m, t in overrides.pinned.items() if m in mentee_ids},
        forbidden=frozenset(p for p in overrides.forbidden if p[0] in mentee_ids),
    )


def _combined(a: BulkRun, b: BulkRun) -> BulkRun:
    pairs = tuple(sorted((*a.pairs, *b.pairs), key=lambda p: p.mentee_id))
    scores = sorted(p.score for p in pairs)
    ra, rb = a.report, b.report
    merged = BulkReport(
        mode=ra.mode,
        mentees=ra.mentees + rb.mentees,
        matched=len(pairs),
        pinned=ra.pinned + rb.pinned,
        by_choice=tuple(x + y for x, y in zip(ra.by_choice, rb.by_choice, strict=True)),  # type: ignore[arg-type]
        total_score=sum(scores),
        mean_score=sum(scores) / len(scores) if scores else 0.0,
        min_score=scores[0] if scores else None,
        p10_score=scores[math.ceil(0.1 * len(scores)) - 1] if scores else None,
        blocking_pairs=ra.blocking_pairs + rb.blocking_pairs,
        optimal_total=ra.optimal_total + rb.optimal_total,
        stable_total=ra.stable_total + rb.stable_total,
    )
    return BulkRun(ra.mode, np.concatenate([a.chosen, b.chosen]), pairs, merged)


# --- peer circles (issue 17) ----------------------------------------------------------------------------------


def peer_score(weights: Weights) -> Callable[[MenteeProfile, MenteeProfile], int]:
    """Two peers' compatibility: the mean of each one's score as the other's mentor (0-100), symmetric."""

    def as_mentor(p: MenteeProfile) -> MentorProfile:
        return MentorProfile(
            mentor_id=p.mentee_id,
            specialty=p.specialty,
            career_stage=p.career_stage,
            languages=p.languages,
            interests=p.interests,
            utc_offset_minutes=p.utc_offset_minutes,
            department=p.department,
        )

    def pair(a: MenteeProfile, b: MenteeProfile) -> int:
        return round((score(a, as_mentor(b), weights) + score(b, as_mentor(a), weights)) / 2)

    return pair
