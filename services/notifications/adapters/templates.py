"""Message templates: Jinja2 files ``<name>.subject``, ``<name>.txt`` and ``<name>.html``.

Looked up in ``<templates_dir>/<program>/``, then ``<templates_dir>/default/``,
then the built-in ``services/notifications/templates/default/``: a program
overrides any single file and inherits the rest.  A context with an ``invitation`` (a scheduled meeting's)
also renders its iCalendar object (``ical.py``) for the recipient.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

from services.notifications.adapters.ical import invitation_ics
from services.notifications.domain.outgoing import Rendered

BUILT_IN = Path(__file__).resolve().parent.parent / "templates" / "default"


def local_time(moment: str | None, person: dict[str, Any] | None = None) -> str:
    """An ISO moment as the person reads it: in their time zone (UTC when none is known), with the zone named."""
    if not moment:
        return ""
    name = (person or {}).get("time_zone") or "UTC"
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, name = ZoneInfo("UTC"), "UTC"
    at = datetime.fromisoformat(moment).astimezone(zone)
    return f"{at:%A %d %B %Y, %H:%M} ({name})"


class Templates:
    def __init__(self, templates_dir: Path | None = None, program: str = "default") -> None:
        folders = [templates_dir / program, templates_dir / "default"] if templates_dir else []
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader([str(f) for f in folders]), FileSystemLoader(str(BUILT_IN))]),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,  # templates are read once per process, not stat()ed again for every message
        )
        self.env.filters["local"] = local_time

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        subject = self.env.get_template(f"{name}.subject").render(context)
        invitation = context.get("invitation")
        return Rendered(
            subject=" ".join(subject.split()),
            text=self.env.get_template(f"{name}.txt").render(context),
            html=self.env.get_template(f"{name}.html").render(context),
            calendar=None
            if invitation is None
            else invitation_ics(invitation, context["organizer"], context["attendees"], context["recipient"]),
        )
