"""Who may still act (``shared.standing.refusal``): erased people nowhere, deactivated people read only."""

from __future__ import annotations

import pytest

from shared.standing import refusal


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_an_erased_person_is_gone_for_every_request(method: str) -> None:
    assert refusal("p-1", "erased", method) == (410, "participant p-1 was erased; their token no longer acts")


@pytest.mark.parametrize("method", ["POST", "put", "PATCH", "DELETE"])
def test_a_deactivated_person_may_not_command(method: str) -> None:
    assert refusal("p-1", "deactivated", method) == (403, "participant p-1 is deactivated and may not act")


def test_a_deactivated_person_still_reads_and_others_go_on() -> None:
    assert refusal("p-1", "deactivated", "GET") is None
    assert refusal("p-1", None, "POST") is None
