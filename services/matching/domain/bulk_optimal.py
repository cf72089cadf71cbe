"""Optimal mode: the assignment of maximum total compatibility under mentor capacities.

A sparse linear assignment (scipy's LAPJVsp) on mentors expanded into one column per open
slot, plus an "unmatched" column per mentee. Among assignments of equal total it matches the
most mentees: edge weights are ``score * (mentees + 1) + 1``.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from services.matching.domain.candidates import CandidateGraph


def optimal_assignment(graph: CandidateGraph) -> np.ndarray:
    """Per mentee, the chosen edge of ``graph`` or -1."""
    n = graph.mentee_count
    chosen = np.full(n, -1, dtype=np.int64)
    if n == 0 or graph.edge_count == 0:
        return chosen
    edge_mentee = graph.edge_mentee()
    degree = np.bincount(graph.mentor, minlength=graph.mentor_count)
    slots = np.minimum(graph.capacity, degree)
    first_slot = np.concatenate([[0], np.cumsum(slots)])
    per_edge = slots[graph.mentor]
    expanded_edge = np.repeat(np.arange(graph.edge_count), per_edge)
    slot_in_mentor = np.arange(len(expanded_edge)) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
    columns = first_slot[graph.mentor[expanded_edge]] + slot_in_mentor
    weight = graph.score[expanded_edge] * (n + 1) + 1
    ceiling = int(weight.max(initial=0)) + 1
    expanded_mentee = edge_mentee[expanded_edge]
    row_length = np.bincount(expanded_mentee, minlength=n) + 1
    indptr = np.concatenate([[0], np.cumsum(row_length)])
    data = np.full(indptr[-1], float(ceiling))
    indices = first_slot[-1] + np.repeat(np.arange(n), row_length)
    at = np.arange(len(expanded_edge)) + expanded_mentee  # each earlier row added one "unmatched" entry
    data[at] = ceiling - weight
    indices[at] = columns
    biadjacency = csr_array((data, indices, indptr), shape=(n, first_slot[-1] + n))
    rows, cols = min_weight_full_bipartite_matching(biadjacency)
    matched = cols < first_slot[-1]
    rows, cols = rows[matched], cols[matched]
    mentor = np.searchsorted(first_slot, cols, side="right") - 1
    edge_key = edge_mentee * graph.mentor_count + graph.mentor
    order = np.argsort(edge_key, kind="stable")
    chosen[rows] = order[np.searchsorted(edge_key, rows * graph.mentor_count + mentor, sorter=order)]
    return chosen
