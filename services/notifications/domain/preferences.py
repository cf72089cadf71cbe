"""How a participant wants to be told: which channels, and a daily digest instead of immediate messages."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from services.notifications.domain.errors import ChannelUnavailable, NotTheirs


@dataclass(frozen=True)
class Preferences:
    channels: list[str]
    digest: bool = False


def choose(channels: Iterable[str], digest: bool, available: Collection[str]) -> Preferences:
    """The preferences as saved: each channel once, in order; every one must be configured here."""
    wanted = set(channels)
    unavailable = sorted(wanted - set(available))
    if unavailable:
        raise ChannelUnavailable(unavailable)
    return Preferences(sorted(wanted), digest)


def check_caller(caller_id: str, caller_is_admin: bool, participant_id: str) -> None:
    """Only the participant themself or an admin reads or sets a participant's preferences."""
    if caller_id != participant_id and not caller_is_admin:
        raise NotTheirs()
