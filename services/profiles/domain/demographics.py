"""Demographic aggregates: per category of one dimension, how many of each group's participants gave that answer
with consent; small cells withheld here, so no caller ever learns one person's category.

Pure: the route hands over the groups (disjoint lists of participant ids, e.g. ``matched`` / ``not_matched``) and
each id's demographics as the read model holds them (only while consented), and gets the table back.

**Categories.** An answer counts only with consent; free text compares trimmed, with inner runs of spaces as one
and case-insensitively (``" Woman "`` and ``"woman"`` are one category, reported as ``woman``);
``first_generation`` is ``yes`` or ``no``. No consent, no answer, or an id profiles does not hold (never
registered, erased) is ``not_given``: the answer looks the same for all three, so it tells nobody who exists.

**Suppression** (``min_cell`` = m, never below the service's floor):

1. a category of fewer than m people is pooled into ``other``; while ``other`` holds fewer than m people and a
   named category is left, the smallest named category joins it too, so a small category's name never shows;
2. a row (a category, ``other``, ``not_given``) of fewer than m people has its total and counts withheld;
3. a row's counts are withheld together when any count, or any count's complement in the row (the rest of
   the row's people, with two or more groups), is below m;
4. complementary: the caller knows its groups' sizes, so a single withheld total or a single row of withheld
   counts could be worked out by subtraction; the smallest row still shown is withheld with it until none or
   at least two are withheld.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DIMENSIONS = ("gender", "race_ethnicity", "first_generation")
NOT_GIVEN = "not_given"
OTHER = "other"


def category(demographics: Mapping | None, dimension: str) -> str:
    """The category one participant counts in for ``dimension``."""
    if not demographics or demographics.get("consented") is not True:
        return NOT_GIVEN
    value = demographics.get(dimension)
    if value is None:
        return NOT_GIVEN
    if isinstance(value, bool):
        return "yes" if value else "no"
    normalized = " ".join(str(value).split()).casefold()
    return normalized or NOT_GIVEN


def tabulate(
    dimension: str, groups: Mapping[str, Sequence[str]], answers: Mapping[str, Mapping | None]
) -> dict[str, dict[str, int]]:
    """category → group → people (every group named in every category, zero included)."""
    table: dict[str, dict[str, int]] = {}
    for label, ids in groups.items():
        for participant_id in ids:
            row = table.setdefault(category(answers.get(participant_id), dimension), dict.fromkeys(groups, 0))
            row[label] += 1
    return table


def _pooled(table: dict[str, dict[str, int]], labels: Sequence[str], min_cell: int) -> list[tuple[str, dict]]:
    """Step 1: the rows shown, named categories (largest first) then ``other`` and ``not_given``."""
    total = {name: sum(row.values()) for name, row in table.items()}
    named = sorted((c for c in table if c != NOT_GIVEN), key=lambda c: (total[c], c))
    pooled = [c for c in named if total[c] < min_cell]
    kept = [c for c in named if total[c] >= min_cell]
    while pooled and sum(total[c] for c in pooled) < min_cell and kept:
        pooled.append(kept.pop(0))
    rows = [(c, table[c]) for c in sorted(kept, key=lambda c: (-total[c], c))]
    if pooled:
        rows.append((OTHER, {label: sum(table[c][label] for c in pooled) for label in labels}))
    if NOT_GIVEN in table:
        rows.append((NOT_GIVEN, table[NOT_GIVEN]))
    return rows


def _complete(withheld: set[str], also: set[str], rows: list[tuple[str, dict]]) -> bool:
    """Step 4 for one kind of withholding: a lone withheld row takes the smallest row still shown with it."""
    if len(withheld) != 1:
        return False
    shown = sorted((r for r in rows if r[0] not in withheld), key=lambda r: (sum(r[1].values()), r[0]))
    if not shown:
        return False
    withheld.add(shown[0][0])
    also.add(shown[0][0])
    return True


def suppress(table: dict[str, dict[str, int]], labels: Sequence[str], min_cell: int) -> list[dict]:
    """The rows as answered: ``{"category", "people", "counts": {group: n}}``, ``None`` where withheld."""
    rows = _pooled(table, labels, min_cell)
    small_total = {name for name, row in rows if sum(row.values()) < min_cell}
    small_counts = set(small_total)
    for name, row in rows:
        people = sum(row.values())
        if any(n < min_cell or (len(labels) > 1 and people - n < min_cell) for n in row.values()):
            small_counts.add(name)
    while _complete(small_total, small_counts, rows) or _complete(small_counts, set(), rows):
        pass
    return [
        {
            "category": name,
            "people": None if name in small_total else sum(row.values()),
            "counts": {label: None if name in small_counts else row[label] for label in labels},
        }
        for name, row in rows
    ]


def breakdown(
    dimension: str, groups: Mapping[str, Sequence[str]], answers: Mapping[str, Mapping | None], min_cell: int
) -> dict:
    """The whole answer for one dimension."""
    labels = list(groups)
    return {
        "dimension": dimension,
        "min_cell": min_cell,
        "groups": labels,
        "categories": suppress(tabulate(dimension, groups, answers), labels, min_cell),
    }
