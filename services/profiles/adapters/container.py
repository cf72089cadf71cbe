"""What ``bootstrap.py`` builds once and keeps on ``app.state.container``: the use cases' ports and the read side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from services.profiles.adapters.queries import Queries
from services.profiles.application.ports import Ports
from services.profiles.settings import ProfilesSettings
from shared.http import get_container


@dataclass(frozen=True)
class ProfilesContainer(Ports):
    """A use case takes it as its ``Ports``; a route also reads through ``queries``."""

    queries: Queries
    aggregates: ProfilesSettings = field(default_factory=ProfilesSettings)
    """Who may ask for demographic aggregates, and their smallest cell (``adapters/aggregates.py``)."""


Container = Annotated[ProfilesContainer, Depends(get_container)]
"""A route's dependency on the composition root."""
