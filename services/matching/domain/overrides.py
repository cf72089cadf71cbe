"""Admin overrides of a bulk run: pinned pairs are placed first, forbidden pairs never."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from services.matching.domain.candidates import CandidateGraph


class OverrideConflict(ValueError):
    pass


@dataclass(frozen=True)
class Overrides:
    pinned: Mapping[str, str] = field(default_factory=dict)
    """mentee id -> mentor id"""
    forbidden: frozenset[tuple[str, str]] = frozenset()
    """(mentee id, mentor id) pairs"""

    def check_known(self, mentee_ids: Sequence[str], mentor_index: Mapping[str, int]) -> None:
        known_mentees = set(mentee_ids)
        for mentee_id, mentor_id in [*self.pinned.items(), *self.forbidden]:
            if mentee_id not in known_mentees or mentor_id not in mentor_index:
                raise OverrideConflict(f"unknown pair in overrides: {mentee_id} -> {mentor_id}")
        clash = sorted(pair for pair in self.pinned.items() if pair in self.forbidden)
        if clash:
            raise OverrideConflict(f"pairs both pinned and forbidden: {clash}")


@dataclass(frozen=True, eq=False)
class Residual:
    """What is left to solve once pins are placed: the graph without pinned mentees, forbidden pairs, full mentors."""

    graph: CandidateGraph
    pinned_edge: np.ndarray
    """Per mentee, the edge of its pinned pair in the full graph, or -1."""


def apply_overrides(graph: CandidateGraph, overrides: Overrides) -> Residual:
    mentor_index = {mentor_id: j for j, mentor_id in enumerate(graph.mentor_ids)}
    overrides.check_known(graph.mentee_ids, mentor_index)
    mentee_index = {mentee_id: i for i, mentee_id in enumerate(graph.mentee_ids)}
    pinned_edge = np.full(graph.mentee_count, -1, dtype=np.int64)
    capacity = graph.capacity.copy()
    for mentee_id, mentor_id in sorted(overrides.pinned.items()):
        i, j = mentee_index[mentee_id], mentor_index[mentor_id]
        row = np.arange(graph.indptr[i], graph.indptr[i + 1])
        edge = row[graph.mentor[row] == j]
        if not len(edge):
            raise OverrideConflict(f"pinned pair is not in the candidate graph: {mentee_id} -> {mentor_id}")
        capacity[j] -= 1
        if capacity[j] < 0:
            raise OverrideConflict(f"pinned pairs exceed the open slots of mentor {mentor_id}")
        pinned_edge[i] = edge[0]
    keep = (pinned_edge[graph.edge_mentee()] < 0) & (capacity[graph.mentor] > 0)
    if overrides.forbidden:
        width = graph.mentor_count
        forbidden = [mentee_index[a] * width + mentor_index[b] for a, b in overrides.forbidden]
        keep &= ~np.isin(graph.edge_mentee() * width + graph.mentor, forbidden)
    return Residual(graph.restricted(keep, capacity), pinned_edge)
