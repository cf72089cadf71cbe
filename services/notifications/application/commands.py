"""What the routes build: one frozen dataclass per command the service accepts over HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SetPreferences:
    participant_id: str
    channels: tuple[str, ...]
    digest: bool
    caller_id: str
    caller_is_admin: bool


@dataclass(frozen=True)
class ShowPreferences:
    participant_id: str
    caller_id: str
    caller_is_admin: bool
