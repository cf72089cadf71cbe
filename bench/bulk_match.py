"""Bulk matching of a cohort: both modes against independent references, in one run.

    python -m bench.bulk_match            # 10,000 mentees x 2,000 mentors, capacities 1-8, K = 50
    python -m bench.bulk_match --quick    # 2,000 x 400

References: OR-Tools min-cost flow for the optimum (ours is scipy's sparse assignment on
slot-expanded mentors), the ``matching`` library's hospital-resident solver for the stable
matching, and a plain-Python blocking-pair checker (the report's own count is vectorised).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue as queue_module
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import psutil

from bench.common import table
from services.matching.domain.bulk_run import BulkRun, run_bulk_match, solve
from services.matching.domain.bulk_stable import mentor_preference, stable_assignment
from services.matching.domain.candidates import CandidateGraph, build_candidates
from services.matching.domain.cohort import Cohort
from services.matching.domain.compatibility import (
    CAREER_STAGES,
    MenteePreferences,
    MenteeProfile,
    MentorProfile,
    Weights,
)
from services.matching.domain.hard_filters import default_filters
from services.matching.domain.overrides import Overrides, Residual, apply_overrides

SEED = 20250415
TIME_TARGET_S = 5.0
MEMORY_TARGET_MB = 1024
MATCHING_LIBRARY_BUDGET_S = 120.0
ZONES = [-480, -420, -360, -300, -240, 0, 60, 120, 330, 480, 540, 600]
ZONE_WEIGHTS = [0.10, 0.05, 0.20, 0.30, 0.05, 0.08, 0.08, 0.03, 0.04, 0.03, 0.02, 0.02]
LANGUAGES = ["en", "es", "zh", "fr", "de", "pt", "hi", "ar"]
FORMATS = ["in_person", "video", "phone", "hybrid"]


@dataclass(frozen=True)
class Instance:
    mentees: list[MenteeProfile]
    mentors: list[MentorProfile]
    ranked_choices: dict[str, list[str]]
    supervisor_of: dict[str, str]
    overrides: Overrides


# --- a deterministic synthetic cohort ------------------------------------------------------------


def synthetic_cohort(mentee_count: int, mentor_count: int, seed: int = SEED) -> Instance:
    rng = np.random.default_rng(seed)
    specialties = [f"specialty-{s:02d}" for s in range(40)]
    specialty_weight = 1 / np.arange(1, 41) ** 0.7
    specialty_weight /= specialty_weight.sum()
    interests_of = [[f"interest-{(s * 7 + k) % 150:03d}" for k in range(15)] for s in range(40)]
    departments = [f"dept-{d:02d}" for d in range(30)]

    def person(specialty: int) -> dict[str, Any]:
        own = rng.choice(interests_of[specialty], size=rng.integers(1, 6), replace=False).tolist()
        other = [f"interest-{i:03d}" for i in rng.integers(0, 150, size=rng.integers(0, 3))]
        first = LANGUAGES[0] if rng.random() < 0.85 else LANGUAGES[rng.integers(1, len(LANGUAGES))]
        languages = [first] + ([LANGUAGES[rng.integers(0, len(LANGUAGES))]] if rng.random() < 0.3 else [])
        return {
            "specialty": specialties[specialty],
            "interests": frozenset(own + other),
            "languages": tuple(dict.fromkeys(languages)),
            "utc_offset_minutes": int(rng.choice(ZONES, p=ZONE_WEIGHTS)),
            "department": departments[rng.integers(0, 30)] if rng.random() < 0.9 else None,
        }

    mentors = []
    for j in range(mentor_count):
        s = int(rng.choice(40, p=specialty_weight))
        formats = frozenset(rng.choice(FORMATS, size=rng.integers(1, 4), replace=False).tolist())
        stage = CAREER_STAGES[rng.integers(2, 6)]
        capacity = int(rng.integers(1, 9))
        active = int(rng.integers(0, 2)) if rng.random() < 0.1 else 0
        mentors.append(
            MentorProfile(
                f"m{j:05d}", career_stage=stage, formats=formats, capacity=capacity, active_mentees=active, **person(s)
            )
        )
    mentor_ids_by_specialty: dict[str, list[str]] = {}
    for mentor in mentors:
        mentor_ids_by_specialty.setdefault(mentor.specialty, []).append(mentor.mentor_id)
    popularity = 1 / np.arange(1, mentor_count + 1) ** 0.8
    mentees, ranked_choices = [], {}
    dual = {f"m{j:05d}" for j in rng.choice(mentor_count, size=mentor_count // 50, replace=False)}
    for i in range(mentee_count):
        s = int(rng.choice(40, p=specialty_weight))
        mentee_id = sorted(dual)[i] if i < len(dual) else f"e{i:05d}"
        preferences = MenteePreferences(
            specialties=frozenset(rng.choice(specialties, size=rng.integers(1, 3)).tolist())
            if rng.random() < 0.4
            else frozenset(),
            formats=frozenset(rng.choice(FORMATS, size=1).tolist()) if rng.random() < 0.3 else frozenset(),
            same_department=bool(rng.random() < 0.2),
        )
        mentees.append(
            MenteeProfile(
                mentee_id, career_stage=CAREER_STAGES[rng.integers(0, 4)], preferences=preferences, **person(s)
            )
        )
        if rng.random() < 0.6:
            pool = mentor_ids_by_specialty.get(specialties[s]) or [m.mentor_id for m in mentors]
            weight = popularity[: len(pool)] / popularity[: len(pool)].sum()
            picks = rng.choice(len(pool), size=min(len(pool), int(rng.integers(1, 4))), replace=False, p=weight)
            ranked_choices[mentee_id] = [pool[p] for p in picks]
    supervisor_of = {}
    for j in range(1, mentor_count):
        if rng.random() < 0.7:
            supervisor_of[f"m{j:05d}"] = f"m{rng.integers(0, j):05d}"
    for mentee in mentees:
        if rng.random() < 0.5 and mentee.mentee_id not in supervisor_of:
            supervisor_of[mentee.mentee_id] = f"m{rng.integers(0, mentor_count):05d}"
    return Instance(mentees, mentors, ranked_choices, supervisor_of, Overrides())


def with_overrides(instance: Instance, graph: CandidateGraph, count: int) -> Overrides:
    """Pin ``count`` mentees to their last candidate and forbid ``count`` first-choice pairs."""
    rng = np.random.default_rng(SEED + 1)
    capacity = graph.capacity.copy()
    pinned, forbidden = {}, set()
    for i in rng.choice(graph.mentee_count, size=2 * count, replace=False).tolist():
        start, end = graph.indptr[i], graph.indptr[i + 1]
        if end - start < 2:
            continue
        if len(pinned) < count and capacity[graph.mentor[end - 1]] > 0:
            capacity[graph.mentor[end - 1]] -= 1
            pinned[graph.mentee_ids[i]] = graph.mentor_ids[graph.mentor[end - 1]]
        elif len(forbidden) < count:
            forbidden.add((graph.mentee_ids[i], graph.mentor_ids[graph.mentor[start]]))
    return Overrides(pinned, frozenset(forbidden))


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Measured:
    seconds: float = 0.0
    peak_mb: float = 0.0


@contextmanager
def measured() -> Iterator[Measured]:
    """Wall time and peak RSS growth, sampled every 5 ms by a thread."""
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = Measured()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        result.peak_mb = (max(peak[0], process.memory_info().rss) - baseline) / 2**20


# --- independent references -------------------------------------------------------------------


def ortools_optimum(residual: Residual) -> int:
    """Maximum total score of the residual graph by OR-Tools' min-cost flow (cost scaling)."""
    from ortools.graph.python import min_cost_flow

    g = residual.graph
    n, m = g.mentee_count, g.mentor_count
    source, sink = 0, n + m + 1
    mentees, mentors = np.arange(1, n + 1), np.arange(n + 1, n + m + 1)
    tails = np.concatenate([np.zeros(n, dtype=np.int64), 1 + g.edge_mentee(), mentors, [source]])
    heads = np.concatenate([mentees, n + 1 + g.mentor, np.full(m, sink), [sink]])
    capacities = np.concatenate([np.ones(n + g.edge_count, dtype=np.int64), g.capacity, [n]])
    costs = np.concatenate([np.zeros(n, dtype=np.int64), -g.score, np.zeros(m + 1, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    flow.set_nodes_supplies(np.array([source, sink]), np.array([n, -n]))
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("OR-Tools found no optimal flow")
    return -flow.optimal_cost()


def plain_blocking_pairs(graph: CandidateGraph, chosen: np.ndarray) -> int:
    """Blocking pairs straight from the definition, with dictionaries and loops."""
    wanted = mentor_preference(graph).tolist()
    rows = [list(range(graph.indptr[i], graph.indptr[i + 1])) for i in range(graph.mentee_count)]
    held: dict[int, list[int]] = {}
    for edge in chosen.tolist():
        if edge >= 0:
            held.setdefault(int(graph.mentor[edge]), []).append(wanted[edge])
    blocking = 0
    for i, row in enumerate(rows):
        for edge in row:
            if edge == chosen[i]:
                break
            j = int(graph.mentor[edge])
            mine = held.get(j, [])
            if len(mine) < graph.capacity[j] or wanted[edge] > min(mine):
                blocking += 1
    return blocking


def hospital_resident(graph: CandidateGraph) -> dict[str, str]:
    """The ``matching`` library's resident-optimal hospital-resident matching on the same lists."""
    from matching.games import HospitalResident

    wanted = mentor_preference(graph)
    resident_prefs, hospital_edges = {}, {}
    for i, mentee_id in enumerate(graph.mentee_ids):
        edges = range(graph.indptr[i], graph.indptr[i + 1])
        if len(edges):
            resident_prefs[mentee_id] = [graph.mentor_ids[graph.mentor[e]] for e in edges]
            for e in edges:
                hospital_edges.setdefault(graph.mentor_ids[graph.mentor[e]], []).append(e)
    edge_mentee = graph.edge_mentee()
    hospital_prefs = {
        mentor_id: [graph.mentee_ids[edge_mentee[e]] for e in sorted(edges, key=lambda e: -wanted[e])]
        for mentor_id, edges in hospital_edges.items()
    }
    capacities = {mentor_id: int(graph.capacity[graph.mentor_ids.index(mentor_id)]) for mentor_id in hospital_prefs}
    game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
    solution = game.solve(optimal="resident")
    return {resident.name: hospital.name for hospital, residents in solution.items() for resident in residents}


def _hospital_resident_child(graph: CandidateGraph, queue: Any) -> None:
    """The library deep-copies its player graph recursively: give it a deep stack."""
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 30)

    def run() -> None:
        started = time.perf_counter()
        try:
            queue.put((hospital_resident(graph), time.perf_counter() - started))
        except BaseException as error:
            queue.put(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()


def hospital_resident_within(graph: CandidateGraph, budget: float) -> tuple[dict[str, str], float] | None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_hospital_resident_child, args=(graph, queue))
    child.start()
    try:
        outcome = queue.get(timeout=budget)
    except queue_module.Empty:
        return None
    finally:
        child.join(timeout=1)
        if child.is_alive():
            child.kill()
            child.join()
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def first_mentees(graph: CandidateGraph, count: int) -> CandidateGraph:
    """The same graph with only the first ``count`` mentees' rows (the rest keep empty rows)."""
    return graph.restricted(graph.edge_mentee() < count, graph.capacity)


# --- the run --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 mentees x 400 mentors")
    parser.add_argument("--mentees", type=int)
    parser.add_argument("--mentors", type=int)
    parser.add_argument("-k", type=int, default=50, help="top-K candidates per mentee")
    parser.add_argument("--overrides", type=int, default=100, help="pinned and forbidden pairs (each)")
    parser.add_argument(
        "--matching-budget",
        type=float,
        default=MATCHING_LIBRARY_BUDGET_S,
        help="seconds the matching library may take at full size before a subset is used",
    )
    args = parser.parse_args(argv)
    args.mentees = args.mentees or (2_000 if args.quick else 10_000)
    args.mentors = args.mentors or (400 if args.quick else 2_000)
    return args


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"bulk match: {args.mentees:,} mentees x {args.mentors:,} mentors, capacities 1-8, K = {args.k}, "
        f"seed {SEED}, {os.cpu_count()} cores"
    )
    instance = synthetic_cohort(args.mentees, args.mentors)
    filters = default_filters(instance.supervisor_of)
    weights = Weights()

    def candidates(overrides: Overrides | None = None) -> CandidateGraph:
        cohort = Cohort(instance.mentees, instance.mentors)
        return build_candidates(
            cohort, weights, k=args.k, ranked_choices=instance.ranked_choices, overrides=overrides, filters=filters
        )

    overrides = with_overrides(instance, candidates(), args.overrides)
    with measured() as building:
        graph = candidates(overrides)
    print(
        f"candidate graph: {graph.edge_count:,} pairs, {int(graph.capacity.sum()):,} open slots, "
        f"{len(overrides.pinned)} pinned and {len(overrides.forbidden)} forbidden pairs; "
        f"built in {building.seconds:.2f} s, +{building.peak_mb:.0f} MB"
    )

    runs: dict[str, tuple[BulkRun, Measured]] = {}
    for mode in ("optimal", "stable"):
        with measured() as solving:
            run = run_bulk_match(graph, mode, overrides)  # type: ignore[arg-type]
        runs[mode] = (run, solving)

    residual = apply_overrides(graph, overrides)
    pinned_total = int(graph.score[residual.pinned_edge[residual.pinned_edge >= 0]].sum())
    with measured() as reference_time:
        reference = pinned_total + ortools_optimum(residual)
    stable_residual = solve(residual, "stable")
    free = residual.pinned_edge < 0
    position = np.full(graph.edge_count + 1, -1, dtype=np.int64)
    position[residual.graph.origin_edge] = np.arange(residual.graph.edge_count)
    with measured() as checking:
        plain_blocking = plain_blocking_pairs(residual.graph, position[np.where(free, stable_residual, -1)])

    rows = []
    for mode, (run, solving) in runs.items():
        seconds = building.seconds + solving.seconds
        peak = max(building.peak_mb, solving.peak_mb)
        rows.append(
            [
                mode,
                f"{seconds:.2f}",
                f"{solving.seconds:.2f}",
                f"{peak:.0f}",
                f"{run.report.total_score:,}",
                f"{reference:,}",
                run.report.blocking_pairs,
                run.report.matched,
            ]
        )
    print()
    print(
        table(
            ["mode", "end-to-end s", "solve+report s", "peak MB", "total", "OR-Tools optimum", "blocking", "matched"],
            rows,
        )
    )
    print()
    for run, _ in runs.values():
        print(run.report.summary())
    optimal, stable = runs["optimal"][0].report, runs["stable"][0].report
    print()
    print(f"reference optimum: OR-Tools min-cost flow in {reference_time.seconds:.2f} s")
    print(
        f"independent blocking-pair check (plain Python) of the stable result: {plain_blocking} "
        f"in {checking.seconds:.2f} s"
    )
    print(
        f"price of stability: {optimal.price_of_stability:.4f} "
        f"(optimal {optimal.total_score:,} vs stable {stable.total_score:,})"
    )
    hospital_line(residual.graph, args.matching_budget)
    print()
    for mode, (_, solving) in runs.items():
        seconds = building.seconds + solving.seconds
        peak = max(building.peak_mb, solving.peak_mb)
        print(
            f"target {mode}: <= {TIME_TARGET_S:g} s {verdict(seconds <= TIME_TARGET_S)} ({seconds:.2f} s); "
            f"<= {MEMORY_TARGET_MB} MB {verdict(peak <= MEMORY_TARGET_MB)} ({peak:.0f} MB)"
        )
    print(
        f"target optimal = reference optimum: {verdict(optimal.total_score == reference)} "
        f"({optimal.total_score:,} vs {reference:,})"
    )
    print(
        f"target stable has zero blocking pairs: {verdict(stable.blocking_pairs == 0 and plain_blocking == 0)} "
        f"(report {stable.blocking_pairs}, plain checker {plain_blocking})"
    )


def hospital_line(residual_graph: CandidateGraph, budget: float) -> None:
    """Compare our stable matching of the residual graph with the matching library's, at full size if it can."""
    subset = residual_graph
    outcome = hospital_resident_within(subset, budget)
    scope = "full cohort"
    if outcome is None:
        count = 2_000
        subset = first_mentees(residual_graph, count)
        scope = f"SUBSET: first {count:,} mentees (full size exceeded {budget:g} s)"
        outcome = hospital_resident_within(subset, budget)
        if outcome is None:
            print(f"matching library: did not finish on {scope} within {budget:g} s either")
            return
    theirs, seconds = outcome
    with measured() as ours_time:
        ours_chosen = stable_assignment(subset)
    ours = {
        subset.mentee_ids[i]: subset.mentor_ids[subset.mentor[e]] for i, e in enumerate(ours_chosen.tolist()) if e >= 0
    }
    same = ours == theirs
    print(
        f"matching library hospital-resident ({scope}): {len(theirs):,} pairs in {seconds:.2f} s; "
        f"ours {len(ours):,} pairs in {ours_time.seconds:.2f} s; identical matching: {same}"
    )


if __name__ == "__main__":
    main()
