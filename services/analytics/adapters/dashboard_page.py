"""The dashboard page: plain HTML with inline SVG charts, no scripts and no network access."""

from __future__ import annotations

from html import escape

BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 46, 14, 160


def bar_chart(chart_id: str, title: str, bars: dict[str, int | None], min_cell: int) -> str:
    """An SVG bar chart; a withheld (small) cell is drawn as an empty, labelled slot."""
    known = [v for v in bars.values() if v]
    top = max(known, default=1)
    width = len(bars) * (BAR_WIDTH + BAR_GAP) + BAR_GAP
    parts = [f'<figure class="chart" id="{escape(chart_id)}"><figcaption>{escape(title)}</figcaption>',
             f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{CHART_HEIGHT + 40}"'
             f' viewBox="0 0 {width} {CHART_HEIGHT + 40}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(bars.items()):
        x = BAR_GAP + i * (BAR_WIDTH + BAR_GAP)
        height = 0 if not value else round(CHART_HEIGHT * value / top)
        shown = escape(f"<{min_cell}" if value is None else str(value))
        parts.append(f'<rect class="bar" x="{x}" y="{CHART_HEIGHT - height + 16}" width="{BAR_WIDTH}" height="{height}"'
                     f' fill="#2f6f9f"><title>{escape(label)}: {shown}</title></rect>')
        parts.append(f'<text x="{x + BAR_WIDTH / 2}" y="{CHART_HEIGHT - height + 12}" text-anchor="middle"'
                     f' font-size="11">{shown}</text>')
        parts.append(f'<text x="{x + BAR_WIDTH / 2}" y="{CHART_HEIGHT + 30}" text-anchor="middle" font-size="10">'
                     f'{escape(label[:10])}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def tiles(figures: dict[str, object]) -> str:
    cells = "".join(f'<div class="tile"><b>{escape(str(v if v is not None else "—"))}</b><span>{escape(k)}</span></div>'
                    for k, v in figures.items())
    return f'<section class="tiles">{cells}</section>'


def render(figures: dict, query: str) -> str:
    head = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Program evaluation</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}.tiles{display:flex;flex-wrap:wrap;gap:1rem}"
            ".tile{border:1px solid #ccc;border-radius:6px;padding:.6rem 1rem;min-width:8rem}.tile b{display:block;"
            "font-size:1.5rem}.charts{display:flex;flex-wrap:wrap;gap:2rem}form{margin:1rem 0}</style></head><body>")
    filters = figures.get("filters", {})
    form = ("<form method='get'>" + "".join(
        f"<label>{name} <input name='{name}' value='{escape(str(filters.get(name) or ''))}'"
        f"{' type=date' if name in ('start', 'end') else ''}></label> " for name in ("department", "cohort", "start", "end"))
        + "<button>Filter</button></form>")
    links = (f"<p><a href='dashboard.json?{escape(query)}'>JSON</a> · <a href='dashboard.csv?{escape(query)}'>CSV</a>"
             f" · cells under {figures.get('min_cell')} people are withheld</p>")
    if figures.get("suppressed"):
        return head + "<h1>Program evaluation</h1>" + form + f"<p id='suppressed'>{escape(figures['reason'])}</p></body></html>"
    people, requests, rels, sat = (figures[k] for k in ("participants", "requests", "relationships", "satisfaction"))
    min_cell = figures["min_cell"]
    body = [
        "<h1>Program evaluation</h1>", form, links,
        tiles({"mentors": people["mentors"], "mentees": people["mentees"], "requests": requests["submitted"],
               "match rate": requests["match_rate"], "median hours to match": requests["time_to_match_hours"]["median"],
               "active relationships": rels["active"], "lagging now": rels["lagging_now"],
               "mean satisfaction": sat.get("mean")}),
        "<section class='charts'>",
        bar_chart("chart-departments", "Mentees by department",
                  {d["department"]: d["mentees"] for d in people["by_department"]}, min_cell),
        bar_chart("chart-choice", "Matches by choice rank", requests["matched_by_choice_rank"], min_cell),
        bar_chart("chart-closures", "Closure reasons", rels["closure_reasons"], min_cell),
        bar_chart("chart-satisfaction", "Satisfaction (1-5)", sat.get("distribution", {}), min_cell),
        "</section></body></html>",
    ]
    return head + "".join(body)
