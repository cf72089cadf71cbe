"""Small random candidate graphs and brute-force answers to check the matchers against."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
from hypothesis import strategies as st

from services.matching.domain.candidates import CandidateGraph
from services.matching.domain.overrides import Overrides


@st.composite
def candidate_graphs(
    draw: st.DrawFn, max_mentees: int = 6, max_mentors: int = 4, max_capacity: int = 3
) -> CandidateGraph:
    n = draw(st.integers(0, max_mentees))
    m = draw(st.integers(1, max_mentors))
    capacity = draw(st.lists(st.integers(0, max_capacity), min_size=m, max_size=m))
    rows = []
    for _ in range(n):
        mentors = draw(st.permutations(range(m)))[: draw(st.integers(0, m))]
        scores = draw(st.lists(st.integers(0, 100), min_size=len(mentors), max_size=len(mentors)))
        rows.append(
            [(j, s, rank + 1 if rank < 3 else 0) for rank, (j, s) in enumerate(zip(mentors, scores, strict=True))]
        )
    return CandidateGraph.from_rows([f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)], capacity, rows)


@st.composite
def graphs_with_overrides(draw: st.DrawFn, **sizes: int) -> tuple[CandidateGraph, Overrides]:
    graph = draw(candidate_graphs(**sizes))
    left = graph.capacity.copy()
    pinned, forbidden = {}, set()
    for i in range(graph.mentee_count):
        edges = list(range(graph.indptr[i], graph.indptr[i + 1]))
        if not edges:
            continue
        action = draw(st.sampled_from(["none", "pin", "forbid"]))
        e = draw(st.sampled_from(edges))
        j = int(graph.mentor[e])
        if action == "pin" and left[j] > 0:
            left[j] -= 1
            pinned[graph.mentee_ids[i]] = graph.mentor_ids[j]
        elif action == "forbid":
            forbidden.add((graph.mentee_ids[i], graph.mentor_ids[j]))
    return graph, Overrides(pinned, frozenset(forbidden))


def rows(graph: CandidateGraph) -> list[list[int]]:
    return [list(range(graph.indptr[i], graph.indptr[i + 1])) for i in range(graph.mentee_count)]


def assignments(graph: CandidateGraph) -> Iterator[tuple[int, ...]]:
    """Every capacity-respecting assignment: per mentee an edge of their row or -1."""
    for choice in itertools.product(*[[-1, *row] for row in rows(graph)]):
        load = np.bincount([graph.mentor[e] for e in choice if e >= 0], minlength=graph.mentor_count)
        if np.all(load <= graph.capacity):
            yield choice


def total(graph: CandidateGraph, chosen: tuple[int, ...] | np.ndarray) -> int:
    return sum(int(graph.score[e]) for e in chosen if e >= 0)


def mentor_prefers(graph: CandidateGraph, a: int, b: int) -> bool:
    """Edge a's mentee over edge b's mentee, for their common mentor: higher score, then lower mentee index."""
    mentee = np.repeat(np.arange(graph.mentee_count), np.diff(graph.indptr))
    return (int(graph.score[a]), -int(mentee[a])) > (int(graph.score[b]), -int(mentee[b]))


def is_blocking(graph: CandidateGraph, chosen: tuple[int, ...] | np.ndarray, i: int, e: int) -> bool:
    j = int(graph.mentor[e])
    if chosen[i] == e or (chosen[i] >= 0 and chosen[i] < e):
        return False
    held = [h for h in chosen if h >= 0 and graph.mentor[h] == j]
    return len(held) < graph.capacity[j] or any(mentor_prefers(graph, e, h) for h in held)


def blocking_count(graph: CandidateGraph, chosen: tuple[int, ...] | np.ndarray) -> int:
    return sum(is_blocking(graph, chosen, i, e) for i, row in enumerate(rows(graph)) for e in row)
