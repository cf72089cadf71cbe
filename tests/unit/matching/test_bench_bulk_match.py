from __future__ import annotations

import pytest

from bench import bulk_match

pytestmark = pytest.mark.unit


def test_arguments() -> None:
    assert (bulk_match.parse_args([]).mentees, bulk_match.parse_args([]).mentors) == (10_000, 2_000)
    assert (bulk_match.parse_args(["--quick"]).mentees, bulk_match.parse_args(["--quick"]).k) == (2_000, 50)


def test_synthetic_cohort_is_deterministic() -> None:
    assert bulk_match.synthetic_cohort(50, 10) == bulk_match.synthetic_cohort(50, 10)


def test_a_tiny_run_meets_its_correctness_targets(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ortools")
    pytest.importorskip("matching")
    bulk_match.main(["--mentees", "80", "--mentors", "20", "-k", "5", "--overrides", "3", "--matching-budget", "30"])
    out = capsys.readouterr().out
    assert "target optimal = reference optimum: met" in out
    assert "target stable has zero blocking pairs: met" in out
    assert "identical matching: True" in out
