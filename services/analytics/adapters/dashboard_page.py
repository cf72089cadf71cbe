"""The dashboard page: plain HTML with inline SVG charts, no scripts and no network access."""

from __future__ import annotations

from html import escape

from services.analytics.adapters import evaluation_page, formats
from services.analytics.adapters.surveys_page import survey_table

BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 46, 14, 160
COLOURS = ("#2f6f9f", "#d0812c", "#5a9f45", "#9f3f6f")
STEP, MARGIN = 44, 36


def _figure(chart_id: str, title: str, width: float, height: int, desc: str = "") -> str:
    """A chart's opening: its figure, caption and SVG canvas with its accessible name (``<title>``) and
    description (``<desc>``); closed by ``</svg></figure>``."""
    cid = escape(chart_id)
    described = f' aria-describedby="{cid}-desc"' if desc else ""
    return (
        f'<figure class="chart" id="{cid}"><figcaption>{escape(title)}</figcaption>'
        f'<svg role="img" aria-label="{escape(title)}" aria-labelledby="{cid}-title"{described}'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        + (f'<desc id="{cid}-desc">{escape(desc)}</desc>' if desc else "")
    )


def bar_chart(chart_id: str, title: str, bars: dict[str, int | None], min_cell: int, desc: str = "") -> str:
    """An SVG bar chart; a withheld (small) cell is drawn as an empty, labelled slot."""
    known = [v for v in bars.values() if v]
    top = max(known, default=1)
    width = len(bars) * (BAR_WIDTH + BAR_GAP) + BAR_GAP
    parts = [_figure(chart_id, title, width, CHART_HEIGHT + 40, desc)]
    for i, (label, value) in enumerate(bars.items()):
        x = BAR_GAP + i * (BAR_WIDTH + BAR_GAP)
        height = 0 if not value else round(CHART_HEIGHT * value / top)
        shown = escape(f"<{min_cell}" if value is None else str(value))
        parts.append(
            f'<rect class="bar" x="{x}" y="{CHART_HEIGHT - height + 16}" width="{BAR_WIDTH}" height="{height}"'
            f' fill="#2f6f9f"><title>{escape(label)}: {shown}</title></rect>'
        )
        parts.append(
            f'<text x="{x + BAR_WIDTH / 2}" y="{CHART_HEIGHT - height + 12}" text-anchor="middle"'
            f' font-size="11">{shown}</text>'
        )
        parts.append(
            f'<text x="{x + BAR_WIDTH / 2}" y="{CHART_HEIGHT + 30}" text-anchor="middle" font-size="10">'
            f"{escape(label[:10])}</text>"
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def _withheld(value: object, min_cell: int, percent: bool = False) -> str:
    if value is None:
        return f"<{min_cell}"
    return formats.percent(value) if percent else str(value)


def _legend(names: list[str], y: int) -> str:
    parts, x = [], MARGIN
    for i, name in enumerate(names):
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(name)}</text>'
        )
        x += 30 + round(6.5 * len(name))
    return "".join(parts)


def _legend_width(names: list[str]) -> int:
    return MARGIN + sum(30 + round(6.5 * len(name)) for name in names)


def line_chart(
    chart_id: str, title: str, rows: list[dict], series: dict[str, str], min_cell: int, percent: bool = False
) -> str:
    """One line per series over the months of ``rows`` (``series``: row key → legend); gaps where withheld."""
    width = max(360, 2 * MARGIN + STEP * max(len(rows) - 1, 1), _legend_width(list(series.values())))
    known = [r[key] for r in rows for key in series if r[key] is not None]
    top = 1 if percent else max(known, default=0) or 1
    y = lambda v: round(16 + CHART_HEIGHT - CHART_HEIGHT * v / top, 1)  # noqa: E731
    parts = [
        _figure(chart_id, title, width, CHART_HEIGHT + 64),
        f'<text x="4" y="20" font-size="10">{escape(_withheld(top, min_cell, percent))}</text>'
        f'<line x1="{MARGIN}" y1="{16 + CHART_HEIGHT}" x2="{width - MARGIN / 2}" y2="{16 + CHART_HEIGHT}"'
        ' stroke="#999"/>',
    ]
    parts.append(_month_labels(rows))
    for n, (key, name) in enumerate(series.items()):
        parts.append(_line(rows, key, name, COLOURS[n % len(COLOURS)], y, min_cell, percent))
    parts.append(_legend(list(series.values()), CHART_HEIGHT + 46))
    parts.append("</svg></figure>")
    return "".join(parts)


def _month_labels(rows: list[dict]) -> str:
    """Every month's label under the axis (every n-th when there are more than 12)."""
    every = max(1, len(rows) // 12)
    return "".join(
        f'<text x="{MARGIN + i * STEP}" y="{CHART_HEIGHT + 32}" text-anchor="middle" font-size="10">'
        f"{escape(str(next(iter(row.values()))))}</text>"
        for i, row in enumerate(rows)
        if i % every == 0
    )


def _line(rows: list[dict], key: str, name: str, colour: str, y, min_cell: int, percent: bool) -> str:
    """One series: a polyline per run of known values, and a point per month (hollow where withheld)."""
    parts: list[str] = []
    segment: list[str] = []
    for i, row in enumerate([*rows, {key: None}]):
        value = row[key]
        if value is None:
            if len(segment) > 1:
                parts.append(
                    f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2"'
                    f' points="{" ".join(segment)}"/>'
                )
            segment = []
            continue
        segment.append(f"{MARGIN + i * STEP},{y(value)}")
    for i, row in enumerate(rows):
        shown = escape(_withheld(row[key], min_cell, percent))
        value_y = y(row[key]) if row[key] is not None else 16 + CHART_HEIGHT
        parts.append(
            f'<circle class="point" cx="{MARGIN + i * STEP}" cy="{value_y}" r="3"'
            f' fill="{colour if row[key] is not None else "none"}" stroke="{colour}">'
            f"<title>{escape(name)} {escape(str(next(iter(row.values()))))}: {shown}</title></circle>"
        )
    return "".join(parts)


def grouped_bar_chart(
    chart_id: str,
    title: str,
    groups: dict[str, dict[str, float | None]],
    min_cell: int,
    percent: bool = False,
    desc: str = "",
) -> str:
    """Bars side by side per group (e.g. participants vs non-participants per cohort); withheld = labelled slot."""
    names = list(next(iter(groups.values()), {}))
    bar, group_width = 28, 28 * max(len(names), 1) + BAR_GAP * 2
    width = max(360, 2 * MARGIN + group_width * len(groups), _legend_width(names))
    known = [v for bars in groups.values() for v in bars.values() if v is not None]
    top = 1 if percent else max(known, default=0) or 1
    parts = [_figure(chart_id, title, width, CHART_HEIGHT + 64, desc)]
    for g, (label, bars) in enumerate(groups.items()):
        x0 = MARGIN + g * group_width
        for n, name in enumerate(names):
            value, x = bars.get(name), x0 + n * bar
            height = 0 if not value else round(CHART_HEIGHT * value / top)
            shown = escape(_withheld(value, min_cell, percent))
            parts.append(
                f'<rect class="bar" x="{x}" y="{CHART_HEIGHT - height + 16}" width="{bar - 4}"'
                f' height="{height}" fill="{COLOURS[n % len(COLOURS)]}"><title>{escape(label)}'
                f" {escape(name)}: {shown}</title></rect>"
                f'<text x="{x + bar / 2 - 2}" y="{CHART_HEIGHT - height + 12}" text-anchor="middle"'
                f' font-size="10">{shown}</text>'
            )
        parts.append(
            f'<text x="{x0 + bar * len(names) / 2}" y="{CHART_HEIGHT + 32}" text-anchor="middle"'
            f' font-size="11">{escape(label)}</text>'
        )
    parts.append(_legend(names, CHART_HEIGHT + 46))
    parts.append("</svg></figure>")
    return "".join(parts)


def tiles(figures: dict[str, object]) -> str:
    cells = "".join(
        f'<div class="tile"><b>{escape(str(v if v is not None else "—"))}</b><span>{escape(k)}</span></div>'
        for k, v in figures.items()
    )
    return f'<section class="tiles">{cells}</section>'


_HEAD = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Program evaluation</title><style>"
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}.tiles{display:flex;flex-wrap:wrap;gap:1rem}"
    ".tile{border:1px solid #ccc;border-radius:6px;padding:.6rem 1rem;min-width:8rem}.tile b{display:block;"
    "font-size:1.5rem}.charts{display:flex;flex-wrap:wrap;gap:2rem}form{margin:1rem 0}</style></head><body>"
)


def _filter_form(filters: dict) -> str:
    return (
        "<form method='get'>"
        + "".join(
            f"<label>{name} <input name='{name}' value='{escape(str(filters.get(name) or ''))}'"
            f"{' type=date' if name in ('start', 'end') else ''}></label> "
            for name in ("program", "department", "cohort", "start", "end")
        )
        + "<button>Filter</button></form>"
    )


def account_bar(subject: str, roles: list[str], csrf_token: str) -> str:
    """Who is signed in, and the sign-out form (a POST carrying the session's CSRF token)."""
    return (
        f"<form id='account' method='post' action='/logout'>Signed in as <b>{escape(subject)}</b>"
        f" ({escape(', '.join(roles))}) <input type='hidden' name='csrf' value='{escape(csrf_token)}'>"
        "<button type='submit'>Sign out</button></form>"
    )


def program_table(compared: dict | None) -> str:
    """Programs side by side: one row per program, its headline figures; withheld cells labelled, a program of
    too few people withheld whole.  Each program's name links to the dashboard filtered by it."""
    if not compared or not compared.get("programs"):
        return ""
    min_cell = compared["min_cell"]
    columns = [
        ("participants.mentors", "mentors"),
        ("participants.mentees", "mentees"),
        ("requests.submitted", "requests"),
        ("requests.matched", "matched"),
        ("requests.match_rate", "match rate"),
        ("median_time_to_match_hours", "median time to match"),
        ("relationships.started", "relationships"),
        ("relationships.active", "active"),
        ("relationships.lagging_now", "lagging now"),
        ("relationships.closed", "closed"),
        ("relationships.goals_achieved", "goals achieved"),
        ("groups_formed", "groups formed"),
        ("satisfaction.mean", "mean satisfaction"),
    ]
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    rows = []
    for program in compared["programs"]:
        pid = program["program_id"]
        name = program.get("name") or pid
        label = f"<a href='dashboard?program={escape(pid)}'>{escape(name)}</a>"
        model = escape(program.get("model") or "")
        if program["suppressed"]:
            cells = f"<td colspan='{len(columns)}'>fewer than {min_cell} participants: withheld</td>"
        else:
            cells = "".join(f"<td>{_cell_text(program.get(key), min_cell, key)}</td>" for key, _ in columns)
        rows.append(f"<tr data-program='{escape(pid)}'><th>{label}</th><td>{model}</td>{cells}</tr>")
    return (
        "<section id='programs'><h2>Programs compared</h2><table><tr><th>program</th><th>model</th>"
        + head
        + "</tr>"
        + "".join(rows)
        + "</table></section>"
    )


def _cell_text(value: object, min_cell: int, key: str = "") -> str:
    """A cell as a director reads it: rates as percentages, hours as days (``formats``)."""
    if value is None:
        return escape(f"<{min_cell}")
    if key.endswith("_rate"):
        return escape(formats.percent(value))
    if key.endswith("_hours"):
        return escape(formats.hours_as_days(value))
    return escape(str(value))


def render(figures: dict, query: str, account: str = "", compared: dict | None = None, director: str = "") -> str:
    """The page; ``account``: the ``account_bar`` of a browser session (none for a bearer token); ``compared``:
    the programs side by side (``querying.dashboard.program_comparison``); ``director``: what only a director
    sees (``evaluation_page.mentor_table``)."""
    form = account + _filter_form(figures.get("filters", {}))
    if figures.get("suppressed"):
        return (
            _HEAD
            + "<h1>Program evaluation</h1>"
            + form
            + f"<p id='suppressed'>{escape(figures['reason'])}</p>"
            + program_table(compared)
            + "</body></html>"
        )
    links = (
        f"<p><a href='dashboard.json?{escape(query)}'>JSON</a> · <a href='dashboard.csv?{escape(query)}'>CSV</a>"
        f" · cells under {figures.get('min_cell')} people are withheld</p>"
    )
    min_cell = figures["min_cell"]
    body = [
        "<h1>Program evaluation</h1>",
        form,
        links,
        headline_tiles(figures),
        "<section class='charts'>",
        *breakdown_charts(figures, min_cell),
        *dated_charts(figures, min_cell),
        "</section>",
        *evaluation_page.evaluation_tiles(figures, min_cell),
        "<section class='charts'>",
        *evaluation_page.evaluation_charts(figures, min_cell),
        "</section>",
        survey_table(figures.get("surveys"), min_cell),
        director,
        program_table(compared),
        "</body></html>",
    ]
    return _HEAD + "".join(body)


def headline_tiles(figures: dict) -> str:
    people, requests, rels, sat = (figures[k] for k in ("participants", "requests", "relationships", "satisfaction"))
    return tiles(
        {
            "mentors": people["mentors"],
            "mentees": people["mentees"],
            "requests": requests["submitted"],
            "match rate": formats.percent(requests["match_rate"]),
            "median time to match": formats.hours_as_days(requests["time_to_match_hours"]["median"]),
            "active relationships": rels["active"],
            "lagging now": rels["lagging_now"],
            "mean satisfaction": sat.get("mean"),
            "keeping cadence": formats.percent(figures["cadence"]["share_keeping"]),
            "mentor capacity used": formats.percent(figures["mentor_load"]["utilisation"]),
        }
    )


def breakdown_charts(figures: dict, min_cell: int) -> list[str]:
    people, requests, rels, sat = (figures[k] for k in ("participants", "requests", "relationships", "satisfaction"))
    return [
        bar_chart(
            "chart-departments",
            "Mentees by department",
            {d["department"]: d["mentees"] for d in people["by_department"]},
            min_cell,
        ),
        bar_chart("chart-choice", "Matches by choice rank", requests["matched_by_choice_rank"], min_cell),
        bar_chart("chart-closures", "Closure reasons", rels["closure_reasons"], min_cell),
        bar_chart("chart-satisfaction", "Satisfaction (1-5)", sat.get("distribution", {}), min_cell),
    ]


def dated_charts(figures: dict, min_cell: int) -> list[str]:
    return [*activity_charts(figures, min_cell), *cadence_charts(figures, min_cell), *outcome_charts(figures, min_cell)]


def activity_charts(figures: dict, min_cell: int) -> list[str]:
    return [
        line_chart(
            "chart-participants-over-time",
            "Participants at each month's end",
            figures["participants_over_time"],
            {"mentors": "mentors", "mentees": "mentees"},
            min_cell,
        ),
        line_chart(
            "chart-lagging-over-time",
            "Relationships lagging, per month",
            figures["lagging_over_time"],
            {
                "active": "active at month end",
                "lagging_during_month": "lagging during the month",
                "lagging_at_month_end": "lagging at month end",
            },
            min_cell,
        ),
    ]


def cadence_charts(figures: dict, min_cell: int) -> list[str]:
    cadence = figures["cadence"]
    return [
        bar_chart(
            "chart-cadence",
            f"Relationships by meetings held vs their agreed cadence ({figures['as_of']})",
            {
                "kept": cadence["keeping_cadence"],
                "1 behind": cadence["behind_by_one"],
                "2+ behind": cadence["behind_by_two_or_more"],
                "no agreement": cadence["without_agreement"],
            },
            min_cell,
        ),
        line_chart(
            "chart-cadence-over-time",
            "Share of relationships keeping their agreed cadence",
            cadence["over_time"],
            {"share_keeping": "keeping cadence at month end"},
            min_cell,
            percent=True,
        ),
    ]


def outcome_charts(figures: dict, min_cell: int) -> list[str]:
    load, retention = figures["mentor_load"], figures["retention"]
    return [
        bar_chart(
            "chart-mentor-load",
            f"Mentors by load vs capacity ({load['as_of']})",
            {k.replace("_", " "): v for k, v in load["distribution"].items()},
            min_cell,
        ),
        grouped_bar_chart(
            "chart-retention",
            "Retained at 12 months, by hire year",
            {
                c["cohort"]: {
                    "participants": c["participants"]["retention_rate_12m"],
                    "non-participants": c["non_participants"]["retention_rate_12m"],
                }
                for c in retention["cohorts"]
            },
            min_cell,
            percent=True,
        ),
    ]
