"""Numbers as a director reads them on the page: percentages ("42 %"), days ("12 days"), never raw fractions
or hours with decimals. The JSON and CSV keep the raw numbers (and name their units)."""

from __future__ import annotations


def percent(fraction: float | None, withheld: str = "—") -> str:
    """0.4213 → "42 %", 0.125 → "13 %" (halves up); None (withheld or not computable) → ``withheld``."""
    return withheld if fraction is None else f"{int(fraction * 100 + 0.5)} %"


def days(value: float | None, withheld: str = "—") -> str:
    """12.4 → "12 days", 1.5 → "2 days" (halves up), 1 → "1 day", under 1 → "under a day"; None → ``withheld``."""
    if value is None:
        return withheld
    if value < 1:
        return "under a day"
    whole = int(value + 0.5)
    return "1 day" if whole == 1 else f"{whole} days"


def hours_as_days(hours: float | None, withheld: str = "—") -> str:
    return days(None if hours is None else hours / 24, withheld)
