"""Builders of HR facts as the HR system would put them on ``hr.events``, recorded on 2025-01-01."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import HrFacts

RECORDED = datetime(2025, 1, 1, tzinfo=UTC)

_facts = HrFacts(RECORDED)
hired, updated, fact, envelope = _facts.hired, _facts.updated, _facts.fact, _facts.envelope
