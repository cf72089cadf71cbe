"""Small-cell suppression and the snapshot cap and expiry are settings, injected through the composition root."""

from __future__ import annotations

import pytest

from services.analytics.bootstrap import build_app
from services.analytics.projecting.generations import SHAPE
from services.analytics.settings import AnalyticsSettings
from shared.settings import ServiceSettings

pytestmark = pytest.mark.unit

SERVICE = ServiceSettings(service_name="analytics", pg_dsn="postgresql://analytics@127.0.0.1/analytics")


def test_min_cell_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MENTORSHIP_ANALYTICS_MIN_CELL", raising=False)
    assert AnalyticsSettings().min_cell == 5
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_MIN_CELL", "2")
    assert AnalyticsSettings().min_cell == 2
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_MIN_CELL", "-1")
    with pytest.raises(ValueError, match="min_cell"):
        AnalyticsSettings()


def test_the_composition_root_hands_the_setting_and_this_versions_shape_to_the_reads() -> None:
    reads = build_app(SERVICE, AnalyticsSettings(min_cell=7)).state.container.reads
    assert (reads.min_cell, reads.shape) == (7, SHAPE)


def test_the_snapshot_cap_and_expiry_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAX_SNAPSHOTS", "SNAPSHOT_DAYS"):
        monkeypatch.delenv(f"MENTORSHIP_ANALYTICS_{name}", raising=False)
    assert (AnalyticsSettings().max_snapshots, AnalyticsSettings().snapshot_days) == (3, 30)
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_MAX_SNAPSHOTS", "1")
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_SNAPSHOT_DAYS", "7")
    app = build_app(SERVICE, AnalyticsSettings())
    assert (app.state.container.snapshots.limit, app.state.container.snapshots.days) == (1, 7)
    assert app.state.container.reads.snapshot_days == 7
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_SNAPSHOT_DAYS", "0")
    with pytest.raises(ValueError, match="snapshot_days"):
        AnalyticsSettings()


def test_profiles_is_asked_only_at_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MENTORSHIP_ANALYTICS_PROFILES_URL", raising=False)
    assert AnalyticsSettings().profiles_base_url(dev_mode=False) is None
    assert AnalyticsSettings().profiles_base_url(dev_mode=True) is None  # no well-known port guessed
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_PROFILES_URL", "https://profiles.internal/")
    assert AnalyticsSettings().profiles_base_url(dev_mode=False) == "https://profiles.internal"
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_PROFILES_URL", "profiles.internal")
    with pytest.raises(ValueError, match="profiles_url"):
        AnalyticsSettings()
    monkeypatch.delenv("MENTORSHIP_ANALYTICS_PROFILES_URL")
    outside = SERVICE.model_copy(update={"dev_mode": False})
    assert build_app(outside, AnalyticsSettings()).state.container.reads.demographics is None


def test_asking_profiles_outside_development_needs_a_client_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.analytics.bootstrap import startup_findings

    monkeypatch.setenv("MENTORSHIP_PG_DSN", "postgresql://analytics@127.0.0.1/analytics")
    monkeypatch.delenv("MENTORSHIP_ANALYTICS_PROFILES_URL", raising=False)
    for name in ("SERVICE_CLIENT_ID", "SERVICE_CLIENT_SECRET"):
        monkeypatch.delenv(f"MENTORSHIP_{name}", raising=False)
    assert startup_findings() == []  # not asked: the block says it is not configured
    monkeypatch.setenv("MENTORSHIP_ANALYTICS_PROFILES_URL", "https://profiles.internal")
    assert [f.setting for f in startup_findings()] == [
        "MENTORSHIP_SERVICE_CLIENT_ID",
        "MENTORSHIP_SERVICE_CLIENT_SECRET",
    ]
    monkeypatch.setenv("MENTORSHIP_SERVICE_CLIENT_ID", "analytics")
    monkeypatch.setenv("MENTORSHIP_SERVICE_CLIENT_SECRET", "a-long-enough-client-secret")
    assert startup_findings() == []
