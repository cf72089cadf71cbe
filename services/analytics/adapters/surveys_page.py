"""The dashboard page's survey table (issue 18): per program and kind, people asked, answers, response rate and
the mean of each scale question; withheld cells shown as "<min_cell"."""

from __future__ import annotations

from html import escape


def _text(value: object, min_cell: int) -> str:
    return escape(f"<{min_cell}") if value is None else escape(str(value))


def _percent(value: float | None, min_cell: int) -> str:
    return _text(None if value is None else f"{int(value * 100 + 0.5)}%", min_cell)


def survey_table(surveys: dict | None, min_cell: int) -> str:
    if not surveys or not surveys.get("response_rates"):
        return ""
    means = {
        r["survey"]: ", ".join(f"{s['question_id']} {_text(s['mean'], min_cell)}" for s in r["scores"])
        for r in surveys.get("results", [])
    }
    rows = "".join(
        f"<tr data-survey='{escape(r['survey'])}'><th>{escape(r['program_id'])}</th><td>{escape(r['kind'])}</td>"
        f"<td>{_text(r['asked'], min_cell)}</td><td>{_text(r['answered'], min_cell)}</td>"
        f"<td>{_percent(r['response_rate'], min_cell)}</td><td>{means.get(r['survey'], '')}</td></tr>"
        for r in surveys["response_rates"]
    )
    return (
        "<section id='surveys'><h2>Surveys</h2><table><tr><th>program</th><th>kind</th><th>asked</th>"
        "<th>answered</th><th>response rate</th><th>mean scores (1-5)</th></tr>" + rows + "</table></section>"
    )
