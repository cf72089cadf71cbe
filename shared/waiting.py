"""Waiting in a long-running task (a relay, a listener, a watchdog's round): until an event is set or time is up."""

from __future__ import annotations

import asyncio


async def until_any(*events: asyncio.Event, seconds: float) -> None:
    """Until one of ``events`` is set (a stop, a wake-up, a lost connection) or ``seconds`` have passed, whichever
    comes first; returns at once if one is set already, and never raises ``TimeoutError``."""
    if any(event.is_set() for event in events):
        return
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
