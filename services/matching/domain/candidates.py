"""The sparse candidate graph of a bulk run: per mentee, their ranked choices and top-K mentors.

A mentee's row is their preference order, used as is by the stable mode: ranked choices
first, in the mentee's own order (they asked for these mentors by name, as in the request
flow), then the other candidates by score, ties by mentor id. Hard filters, forbidden pairs
and mentors without open slots never enter; a pinned pair always does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from services.matching.domain.cohort import Cohort
from services.matching.domain.compatibility import Weights
from services.matching.domain.hard_filters import HardFilter, default_filters
from services.matching.domain.overrides import Overrides

BLOCK = 500
RANKED_CHOICES = 3


@dataclass(frozen=True, eq=False)
class CandidateGraph:
    """CSR rows by mentee (ordered by id); ``mentor``, ``score``, ``choice_rank`` (0 = not ranked) per edge."""

    mentee_ids: tuple[str, ...]
    mentor_ids: tuple[str, ...]
    capacity: np.ndarray
    indptr: np.ndarray
    mentor: np.ndarray
    score: np.ndarray
    choice_rank: np.ndarray
    origin_edge: np.ndarray
    """Each edge's index in the graph it was restricted from (its own index in a built graph)."""

    @classmethod
    def from_rows(
        cls,
        mentee_ids: Sequence[str],
        mentor_ids: Sequence[str],
        capacity: Sequence[int],
        rows: Sequence[Sequence[tuple[int, int, int]]],
    ) -> CandidateGraph:
        """rows[i]: mentee i's (mentor index, score, choice rank) in preference order."""
        edges = [edge for row in rows for edge in row]
        columns = np.array(edges, dtype=np.int64).reshape(-1, 3).T
        return cls(
            tuple(mentee_ids),
            tuple(mentor_ids),
            np.array(capacity, dtype=np.int64),
            np.concatenate([[0], np.cumsum([len(row) for row in rows], dtype=np.int64)]).astype(np.int64),
            columns[0].copy(),
            columns[1].copy(),
            columns[2].astype(np.int8),
            np.arange(len(edges), dtype=np.int64),
        )

    @property
    def mentee_count(self) -> int:
        return len(self.mentee_ids)

    @property
    def mentor_count(self) -> int:
        return len(self.mentor_ids)

    @property
    def edge_count(self) -> int:
        return len(self.mentor)

    def edge_mentee(self) -> np.ndarray:
        return np.repeat(np.arange(self.mentee_count), np.diff(self.indptr))

    def edge_position(self) -> np.ndarray:
        """Each edge's place in its mentee's preference order, 0 = most preferred."""
        return np.arange(self.edge_count) - np.repeat(self.indptr[:-1], np.diff(self.indptr))

    def restricted(self, keep: np.ndarray, capacity: np.ndarray) -> CandidateGraph:
        counts = np.bincount(self.edge_mentee()[keep], minlength=self.mentee_count)
        return CandidateGraph(
            self.mentee_ids,
            self.mentor_ids,
            capacity,
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            self.mentor[keep],
            self.score[keep],
            self.choice_rank[keep],
            np.flatnonzero(keep),
        )


def build_candidates(
    cohort: Cohort,
    weights: Weights,
    *,
    k: int = 50,
    ranked_choices: Mapping[str, Sequence[str]] | None = None,
    overrides: Overrides | None = None,
    filters: Sequence[HardFilter] | None = None,
) -> CandidateGraph:
    overrides = overrides or Overrides()
    overrides.check_known(cohort.mentee_ids, cohort.mentor_index)
    filters = default_filters() if filters is None else filters
    ranked = _ranked_columns(cohort, ranked_choices or {})
    pinned = np.array(
        [cohort.mentor_index.get(overrides.pinned.get(i, ""), -1) for i in cohort.mentee_ids], dtype=np.int64
    )
    forbidden = _columns_by_mentee(cohort, overrides.forbidden)
    blocks = [slice(s, min(s + BLOCK, cohort.mentee_count)) for s in range(0, cohort.mentee_count, BLOCK)]

    def block_edges(rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        scores = cohort.score_block(rows, weights)
        excluded = np.broadcast_to(cohort.open_slots <= 0, scores.shape).copy()
        for hard_filter in filters:
            excluded |= hard_filter.excluded_block(cohort, rows)
        for offset, mentee_id in enumerate(cohort.mentee_ids[rows]):
            excluded[offset, forbidden.get(mentee_id, [])] = True
        return _block_edges(scores, excluded, k, ranked[rows], pinned[rows])

    with ThreadPoolExecutor(max_workers=min(len(blocks), os.cpu_count() or 1) or 1) as pool:
        parts = list(pool.map(block_edges, blocks))
    counts = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    mentor, score, rank = (_concat([p[n] for p in parts], t) for n, t in ((1, np.int64), (2, np.int64), (3, np.int8)))
    return CandidateGraph(
        cohort.mentee_ids,
        cohort.mentor_ids,
        cohort.open_slots.copy(),
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        mentor,
        score,
        rank,
        np.arange(len(mentor), dtype=np.int64),
    )


def _block_edges(
    scores: np.ndarray, excluded: np.ndarray, k: int, ranked: np.ndarray, pinned: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: allowed ranked choices, then the top k others, then a pin not yet there."""
    b, m = scores.shape
    key = np.where(excluded, -1, scores.astype(np.int64) * m + np.arange(m - 1, -1, -1))
    top = _top_columns(key, k)
    top_valid = np.take_along_axis(key, top, axis=1) >= 0
    rows = np.arange(b)[:, None]
    ranked_valid = (ranked >= 0) & ~excluded[rows, np.maximum(ranked, 0)]
    ranked_valid &= ~_earlier_duplicate(ranked)
    top_valid &= ~(top[:, :, None] == np.where(ranked_valid, ranked, -1)[:, None, :]).any(axis=2)
    placed = np.concatenate([np.where(ranked_valid, ranked, -1), np.where(top_valid, top, -1)], axis=1)
    pin_valid = (pinned >= 0) & ~(placed == pinned[:, None]).any(axis=1)
    columns = np.concatenate([ranked, top, pinned[:, None]], axis=1)
    valid = np.concatenate([ranked_valid, top_valid, pin_valid[:, None]], axis=1)
    stated = np.where(ranked >= 0, ranked, -2)
    match = columns[:, :, None] == stated[:, None, :]
    rank = np.where(match.any(axis=2), match.argmax(axis=2) + 1, 0)
    edge_rows = np.broadcast_to(rows, columns.shape)[valid]
    return valid.sum(axis=1), columns[valid], scores[edge_rows, columns[valid]], rank[valid]


def _earlier_duplicate(columns: np.ndarray) -> np.ndarray:
    same = columns[:, :, None] == columns[:, None, :]
    return np.tril(same, k=-1).any(axis=2) & (columns >= 0)


def _ranked_columns(cohort: Cohort, ranked_choices: Mapping[str, Sequence[str]]) -> np.ndarray:
    """Per mentee, the columns of their first three ranked mentors (-1 = none or unknown)."""
    ranked = np.full((cohort.mentee_count, RANKED_CHOICES), -1, dtype=np.int64)
    for i, mentee_id in enumerate(cohort.mentee_ids):
        for place, mentor_id in enumerate(list(ranked_choices.get(mentee_id, ()))[:RANKED_CHOICES]):
            ranked[i, place] = cohort.mentor_index.get(mentor_id, -1)
    return ranked


def _top_columns(key: np.ndarray, k: int) -> np.ndarray:
    """Per row, the k best columns by key (unique per row), best first."""
    k = min(max(k, 0), key.shape[1])
    if k == 0:
        return np.zeros((key.shape[0], 0), dtype=np.int64)
    top = np.argpartition(-key, k - 1, axis=1)[:, :k] if key.shape[1] > k else np.tile(np.arange(k), (len(key), 1))
    order = np.argsort(-np.take_along_axis(key, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def _columns_by_mentee(cohort: Cohort, pairs: frozenset[tuple[str, str]]) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {}
    for mentee_id, mentor_id in pairs:
        columns.setdefault(mentee_id, []).append(cohort.mentor_index[mentor_id])
    return columns


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
