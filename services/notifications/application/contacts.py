"""Contact details from profiles events; erasure removes them and everything not yet sent to or about them."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notifications.application.deps import Deps
from shared.events.profiles import ParticipantErased, ProfileUpdated, _Registered
from shared.ports import Conn

CONTACT_FIELDS = frozenset({"name", "email"})
"""The profile fields notifications keeps (the template's ``{name, email}``), and the time zone (below)."""
TIME_ZONE_FIELD = "profile.time_zone"


def _zone(name: object) -> str | None:
    """An IANA zone name, or None (a sealed value this service cannot open, a name that is no zone)."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


async def registered(deps: Deps, conn: Conn, event: _Registered) -> None:
    if await deps.contacts.erased(conn, event.participant_id):
        return
    contact = {"name": event.name, "email": event.email}
    if zone := _zone(event.profile.time_zone):
        contact["time_zone"] = zone
    await deps.contacts.save(conn, event.participant_id, contact)


async def profile_updated(deps: Deps, conn: Conn, event: ProfileUpdated) -> None:
    changes = {c.field: c.new for c in event.changes if c.field in CONTACT_FIELDS}
    zones = [_zone(c.new) for c in event.changes if c.field == TIME_ZONE_FIELD]
    if zones and zones[0]:
        changes["time_zone"] = zones[0]
    if not changes or await deps.contacts.erased(conn, event.participant_id):
        return
    await deps.contacts.save(conn, event.participant_id, changes)


async def erased(deps: Deps, conn: Conn, event: ParticipantErased) -> None:
    """Forget the person (remembering only the id), cancel what was not yet sent to them, and drop
    their biography from messages not yet sent to others."""
    who = event.participant_id
    await deps.contacts.erase(conn, who)
    await deps.preferences.forget(conn, who)
    await deps.requests.forget_mentee(conn, who)
    await deps.intents.cancel_for(conn, who)
    await deps.intents.strip_mentee(conn, who)
