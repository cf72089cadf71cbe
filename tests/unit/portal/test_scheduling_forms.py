"""The meetings' forms: times typed in the person's zone sent with its offset (across a DST change), shown back in
that zone, and the service's row numbers placed back on the rows of the form."""

from __future__ import annotations

from services.portal.application import scheduling as sch


def test_a_local_time_is_sent_with_the_offset_of_its_zone_on_that_day() -> None:
    assert sch.local_to_aware("2026-03-27T10:00", "Europe/Berlin") == "2026-03-27T10:00:00+01:00"
    assert sch.local_to_aware("2026-03-30T10:00", "Europe/Berlin") == "2026-03-30T10:00:00+02:00"  # after DST
    assert sch.local_to_aware("2026-03-30T10:00", None) == "2026-03-30T10:00:00+00:00"
    assert sch.local_to_aware("2026-03-30T10:00", "Not/AZone") == "2026-03-30T10:00:00+00:00"
    assert sch.local_to_aware("next tuesday", "Europe/Berlin") == "next tuesday"  # relationships names the field


def test_an_instant_is_shown_in_the_persons_zone() -> None:
    assert sch.aware_to_local("2026-03-30T08:00:00Z", "Europe/Berlin") == "2026-03-30T10:00"
    assert sch.shown("2026-03-27T09:00:00+00:00", "Europe/Berlin") == "2026-03-27 10:00 (Europe/Berlin)"
    assert sch.shown(None, "UTC") == ""


def test_the_rows_sent_are_placed_back_on_the_rows_typed() -> None:
    typed = ["2026-03-03T10:00", "", "2026-03-03T20:00"]
    rows = sch.filled(typed)
    assert rows == [(0, "2026-03-03T10:00"), (2, "2026-03-03T20:00")]
    placed = sch.rows_back({"candidates.1": "is outside", "duration_minutes": "too long"}, "candidates", [0, 2])
    assert placed == {"candidates.2": "is outside", "duration_minutes": "too long"}
    assert sch.rows_back({"windows.0.start": "bad"}, "windows", [3]) == {"windows.3.start": "bad"}
