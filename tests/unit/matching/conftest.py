"""A fresh in-memory matching world per test (``w``); a module may override it with other settings."""

from __future__ import annotations

import pytest

from tests.unit.matching.fakes import World, world


@pytest.fixture
def w() -> World:
    return world()
