"""Every page text is in every shipped catalog (extracted as ``make messages`` does), and the portal's settings name
no other service's database: only their base URLs."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from pydantic import ValidationError

from services.portal.adapters import i18n
from services.portal.settings import CALLED, PortalSettings
from shared.settings import ServiceSettings

PORTAL = Path(__file__).resolve().parents[3] / "services" / "portal"
METHODS = [("**.py", "python"), ("adapters/templates/**.html", "jinja2")]
OPTIONS = {"adapters/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        PORTAL, METHODS, options_map=OPTIONS, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_page_text_is_in_every_catalog() -> None:
    texts = extracted()
    assert len(texts) > 100 and "Skip to content" in texts and "Find a mentor" in texts  # templates and N_()
    for language in i18n.available():
        path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(StringIO(path.read_text("utf-8")), locale=language)
        missing = sorted(t for t in texts if t not in catalog)
        assert not missing, f"{language}: not in the catalog (make messages): {missing[:10]}"
    assert "en" in i18n.available()


def test_the_portal_names_no_other_services_database() -> None:
    fields = set(PortalSettings.model_fields)
    assert not [f for f in fields if any(w in f for w in ("dsn", "database", "pg_", "postgres", "db_"))]
    assert {f"{s}_url" for s in CALLED} <= fields
    # its own database (sessions) is every service's one setting, MENTORSHIP_PG_DSN
    assert [f for f in ServiceSettings.model_fields if "dsn" in f] == ["pg_dsn"]


def test_a_service_url_must_be_an_http_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORSHIP_PORTAL_MATCHING_URL", "postgresql://matching@db/matching")
    with pytest.raises(ValidationError, match="matching_url"):
        PortalSettings()
    monkeypatch.setenv("MENTORSHIP_PORTAL_MATCHING_URL", "https://matching.internal/")
    assert PortalSettings().base_url("matching") == "https://matching.internal"
