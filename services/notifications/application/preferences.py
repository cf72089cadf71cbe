"""A participant's choice of channels and of a daily digest instead of immediate messages."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.notifications.application.deps import Deps
from services.notifications.application.record_notices import preferences_of


@dataclass(frozen=True)
class Preferences:
    channels: list[str]
    digest: bool


class ChannelUnavailable(ValueError):
    pass


async def set_preferences(
    conn: asyncpg.Connection, deps: Deps, participant_id: str, wanted: Preferences
) -> Preferences:
    unavailable = sorted(set(wanted.channels) - deps.channels_available)
    if unavailable:
        raise ChannelUnavailable(f"{', '.join(unavailable)} is not configured for this institution")
    channels = sorted(set(wanted.channels))
    await conn.execute(
        "INSERT INTO preferences (participant_id, channels, digest) VALUES ($1, $2, $3)"
        " ON CONFLICT (participant_id) DO UPDATE SET channels = EXCLUDED.channels, digest = EXCLUDED.digest",
        participant_id,
        channels,
        wanted.digest,
    )
    return Preferences(channels, wanted.digest)


async def get_preferences(conn: asyncpg.Connection, deps: Deps, participant_id: str) -> Preferences:
    channels, digest = await preferences_of(conn, deps, participant_id)
    return Preferences(channels, digest)
