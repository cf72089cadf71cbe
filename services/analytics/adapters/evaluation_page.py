"""The dashboard's evaluation section (issue 18): tiles and charts of ``figures["evaluation"]``.

Hand-written SVG like the rest of the page (``dashboard_page``'s chart primitives: each chart has a
``<title>`` and ``<desc>``, and every bar a ``<title>`` tooltip). Numbers are formatted for directors
(``formats``): "42 %", "12 days". Analysts and directors see the same section (no per-mentor rows: that
view is the director's ``/dashboard/mentors.json``).
"""

from __future__ import annotations

from html import escape

from services.analytics.adapters import dashboard_page as page
from services.analytics.adapters import formats

ANSWER_LABELS = {
    "within_1_day": "≤ 1 day",
    "1_to_3_days": "1-3 days",
    "3_to_7_days": "3-7 days",
    "over_7_days": "> 7 days",
    "no_answer": "no answer",
}


def evaluation_tiles(figures: dict, min_cell: int) -> list[str]:
    evaluation = figures.get("evaluation")
    if not evaluation:
        return []
    answers, starts = evaluation["responsiveness"], evaluation["fast_starts"]["overall"]
    withheld = f"<{min_cell}"
    return [
        "<h2>Evaluation</h2>",
        page.tiles(
            {
                "median time for a mentor to answer": formats.days(answers.get("median_days_to_answer"), withheld),
                "requests answered by mentors": formats.percent(answers.get("answer_rate"), withheld),
                "median time match → agreement": formats.days(starts["median_days_to_agreement"], withheld),
                "agreements within 30 days": formats.percent(starts["agreement_within_30_days_rate"], withheld),
                "median time match → first meeting": formats.days(starts["median_days_to_first_meeting"], withheld),
                "first meetings within 30 days": formats.percent(starts["first_meeting_within_30_days_rate"], withheld),
            }
        ),
    ]


def evaluation_charts(figures: dict, min_cell: int) -> list[str]:
    evaluation = figures.get("evaluation")
    if not evaluation:
        return []
    answers = evaluation["responsiveness"]
    charts = [
        page.grouped_bar_chart(
            "chart-promotion",
            "Promoted by now, by hire year",
            {
                c["cohort"]: {
                    "participants": c["participants"]["promotion_rate"],
                    "non-participants": c["non_participants"]["promotion_rate"],
                }
                for c in evaluation["promotion"]["cohorts"]
            },
            min_cell,
            percent=True,
            desc="Share of workers with a job-level change effective after their hire, participants vs not",
        ),
    ]
    if answers.get("suppressed"):
        charts.append(
            f"<figure class='chart' id='chart-responsiveness'><figcaption>Mentors by median time to answer"
            f"</figcaption><p>Withheld: fewer than {escape(str(min_cell))} mentors</p></figure>"
        )
    else:
        charts.append(
            page.bar_chart(
                "chart-responsiveness",
                "Mentors by median time to answer a request",
                {ANSWER_LABELS[k]: v for k, v in answers["mentors_by_median_days_to_answer"].items()},
                min_cell,
                desc=f"{answers['mentors']} mentors; median time to answer over all answers: "
                + formats.days(answers["median_days_to_answer"]),
            )
        )
    starts = evaluation["fast_starts"]
    charts.append(
        page.grouped_bar_chart(
            "chart-fast-starts",
            "Fast starts: within 30 days of the match, by program",
            {
                p["program"]: {
                    "agreement signed": p["agreement_within_30_days_rate"],
                    "first meeting": p["first_meeting_within_30_days_rate"],
                }
                for p in starts["by_program"]
            },
            min_cell,
            percent=True,
            desc="Share of relationships whose agreement was signed, and whose first meeting was held, within 30"
            " days of the match; the rest are lagging starts. Median time to agreement overall: "
            + formats.days(starts["overall"]["median_days_to_agreement"]),
        )
    )
    charts.append(
        page.grouped_bar_chart(
            "chart-priority-groups",
            "Match rate and 12-month retention, by priority group",
            {
                g["priority_group"]: {"match rate": g["match_rate"], "retained at 12 months": g["retention_rate_12m"]}
                for g in evaluation["by_priority_group"]
            },
            min_cell,
            percent=True,
            desc="Requests matched, and participants employed on their first anniversary, per priority group.",
        )
    )
    return charts + demographic_charts(evaluation["by_demographics"], min_cell)


DIMENSION_LABELS = {
    "gender": "gender",
    "race_ethnicity": "race or ethnicity",
    "first_generation": "first generation in college",
}
CATEGORY_LABELS = {"not_given": "not given", "other": "other (pooled)"}


def demographic_charts(block: dict, min_cell: int) -> list[str]:
    """Match rate and 12-month retention per category of each consented dimension, as profiles counted them
    (small categories pooled into "other", cells withheld by profiles shown as "<n"); or why there are none."""
    if not block.get("reported"):
        return [
            "<figure class='chart' id='chart-demographics'><figcaption>Match rate and 12-month retention, by consented"
            f" demographics</figcaption><p>Not shown: {escape(block.get('reason', 'not computed'))}</p></figure>"
        ]
    shown = block.get("min_cell", min_cell)
    charts = []
    for dimension, figures in block["dimensions"].items():
        rates: dict[str, dict[str, float | None]] = {}
        for row in figures["match"]:
            rates.setdefault(CATEGORY_LABELS.get(row["category"], row["category"]), {})["match rate"] = row[
                "match_rate"
            ]
        for row in figures["retention_12m"]:
            label = CATEGORY_LABELS.get(row["category"], row["category"])
            rates.setdefault(label, {})["retained at 12 months"] = row["retention_rate_12m"]
        bars = {label: {k: r.get(k) for k in ("match rate", "retained at 12 months")} for label, r in rates.items()}
        name = DIMENSION_LABELS.get(dimension, dimension)
        charts.append(
            page.grouped_bar_chart(
                f"chart-demographics-{dimension.replace('_', '-')}",
                f"Match rate and 12-month retention, by {name} (answers given with consent)",
                bars,
                shown,
                percent=True,
                desc=f"Requests matched, and participants employed on their first anniversary, by {name}. Counted by"
                f" profiles from consented answers only: categories of fewer than {shown} people are pooled into"
                " other, cells of fewer are withheld, and people who gave no answer with consent are not given.",
            )
        )
    return charts


def mentor_table(view: dict) -> str:
    """The director's per-mentor responsiveness (``Reads.mentor_responsiveness``) as a table; never an analyst's."""
    head = "".join(
        f"<th scope='col'>{escape(h)}</th>"
        for h in ("mentor", "received", "accepted", "declined", "expired", "pending", "median time to answer")
    )
    rows = "".join(
        f"<tr><th scope='row'>{escape(m['mentor_id'])}</th>"
        + "".join(f"<td>{m[k]}</td>" for k in ("received", "accepted", "declined", "expired", "pending"))
        + f"<td>{escape(formats.days(m['median_days_to_answer']))}</td></tr>"
        for m in view["mentors"]
    )
    return (
        "<section id='mentor-responsiveness'><h2>Mentor responsiveness (directors only)</h2>"
        f"<table><caption>Requests forwarded to each mentor by {escape(view['as_of'])}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )
