"""A participant reads or sets their choice of channels and of a daily digest (the participant or an admin)."""

from __future__ import annotations

from services.notifications.application.commands import SetPreferences, ShowPreferences
from services.notifications.application.deps import Deps
from services.notifications.domain.preferences import Preferences, check_caller, choose


async def set_preferences(deps: Deps, cmd: SetPreferences) -> Preferences:
    check_caller(cmd.caller_id, cmd.caller_is_admin, cmd.participant_id)
    chosen = choose(cmd.channels, cmd.digest, deps.channels_available)
    async with deps.transactions() as conn:
        await deps.preferences.save(conn, cmd.participant_id, chosen)
    return chosen


async def show_preferences(deps: Deps, cmd: ShowPreferences) -> Preferences:
    """The saved preferences, or the defaults (the configured channels, immediate) for one who never chose."""
    check_caller(cmd.caller_id, cmd.caller_is_admin, cmd.participant_id)
    async with deps.transactions() as conn:
        saved = await deps.preferences.get(conn, cmd.participant_id)
    return saved or Preferences(list(deps.options.default_channels), False)
