"""The pure rules of demographic aggregates (``domain/demographics.py``): categories, pooling, withholding."""

from __future__ import annotations

from services.profiles.domain.demographics import breakdown, category, suppress


def test_a_category_needs_consent_and_compares_trimmed_and_caseless() -> None:
    assert category({"consented": True, "gender": "  Non-Binary  "}, "gender") == "non-binary"
    assert category({"consented": True, "race_ethnicity": "Black  or African American"}, "race_ethnicity") == (
        "black or african american"
    )
    assert category({"consented": False, "gender": "woman"}, "gender") == "not_given"
    assert category(None, "gender") == "not_given"
    assert category({"consented": True, "gender": "   "}, "gender") == "not_given"
    assert category({"consented": True, "first_generation": False}, "first_generation") == "no"


def test_small_categories_pool_into_other_and_other_never_stays_small() -> None:
    table = {"a": {"g": 9, "h": 9}, "b": {"g": 6, "h": 6}, "c": {"g": 1, "h": 0}}
    rows = suppress(table, ["g", "h"], 5)
    # c (1) alone would be a small "other": b, the smallest named category, joins it
    assert [(r["category"], r["people"]) for r in rows] == [("a", 18), ("other", 13)]
    assert rows[1]["counts"] == {"g": 7, "h": 6}


def test_a_lone_withheld_row_takes_the_smallest_shown_row_with_it() -> None:
    table = {"a": {"g": 10, "h": 10}, "b": {"g": 6, "h": 6}, "not_given": {"g": 5, "h": 1}}
    rows = {r["category"]: r for r in suppress(table, ["g", "h"], 5)}
    assert rows["not_given"]["counts"] == {"g": None, "h": None}  # h = 1
    assert rows["b"]["counts"] == {"g": None, "h": None}  # else the group sizes would give not_given's
    assert rows["a"]["counts"] == {"g": 10, "h": 10}
    assert [r["people"] for r in rows.values()] == [20, 12, 6]


def test_a_lone_small_total_is_not_left_to_subtraction() -> None:
    rows = suppress({"a": {"g": 30}, "b": {"g": 8}, "not_given": {"g": 2}}, ["g"], 5)
    assert [(r["category"], r["people"], r["counts"]["g"]) for r in rows] == [
        ("a", 30, 30),
        ("b", None, None),
        ("not_given", None, None),
    ]


def test_everything_small_leaves_only_other_and_not_given() -> None:
    answer = breakdown(
        "gender",
        {"g": ["p1", "p2"], "h": ["p3"]},
        {"p1": {"consented": True, "gender": "woman"}, "p2": {"consented": True, "gender": "man"}},
        5,
    )
    assert answer["categories"] == [
        {"category": "other", "people": None, "counts": {"g": None, "h": None}},
        {"category": "not_given", "people": None, "counts": {"g": None, "h": None}},
    ]
