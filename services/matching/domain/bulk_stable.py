"""Stable mode: mentee-proposing deferred acceptance with mentor capacities.

Mentees propose down their candidate rows (their preference order); a mentor holds the best
offers up to their open slots, preferring higher score, then the lower mentee id. The result
is the mentee-optimal stable matching of the candidate graph.
"""

from __future__ import annotations

import heapq

import numpy as np

from services.matching.domain.candidates import CandidateGraph


def mentor_preference(graph: CandidateGraph) -> np.ndarray:
    """Per edge, how much its mentor wants the mentee: higher is better, unique per mentor."""
    n = graph.mentee_count
    return graph.score * n + (n - 1 - graph.edge_mentee())


def stable_assignment(graph: CandidateGraph) -> np.ndarray:
    """Per mentee, the chosen edge of ``graph`` or -1."""
    row_end = graph.indptr[1:].tolist()
    next_edge = graph.indptr[:-1].tolist()
    mentor = graph.mentor.tolist()
    edge_mentee = graph.edge_mentee().tolist()
    wanted = mentor_preference(graph).tolist()
    capacity = graph.capacity.tolist()
    held: list[list[tuple[int, int]]] = [[] for _ in capacity]
    proposing = list(range(graph.mentee_count - 1, -1, -1))
    while proposing:
        mentee = proposing.pop()
        edge = next_edge[mentee]
        if edge == row_end[mentee]:
            continue
        next_edge[mentee] = edge + 1
        offers = held[mentor[edge]]
        if len(offers) < capacity[mentor[edge]]:
            heapq.heappush(offers, (wanted[edge], edge))
        elif offers and wanted[edge] > offers[0][0]:
            _, rejected = heapq.heapreplace(offers, (wanted[edge], edge))
            proposing.append(edge_mentee[rejected])
        else:
            proposing.append(mentee)
    chosen = np.full(graph.mentee_count, -1, dtype=np.int64)
    for offers in held:
        for _, edge in offers:
            chosen[edge_mentee[edge]] = edge
    return chosen
