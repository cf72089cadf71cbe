"""Page texts from message catalogs (Babel): ``services/portal/locale/<lang>/LC_MESSAGES/messages.po``.

The ``.po`` files are the source (``make messages`` extracts the texts of the templates and the Python code into
``messages.pot`` and updates each language's catalog); they are compiled in memory when the portal starts, so a
fresh clone needs no build step. English is shipped; a browser's ``Accept-Language`` picks among the languages
present, the default otherwise.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined; the page translates it when it shows it."""
    return message


@cache
def available() -> tuple[str, ...]:
    return tuple(sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


@cache
def translations(language: str) -> Translations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of the shipped languages for ``Accept-Language`` (``de-CH, en;q=0.8``), else ``default``."""
    offered = available()
    if not accept_language or not offered:
        return default if default in offered or not offered else offered[0]
    wanted = []
    for part in accept_language.split(",")[:20]:
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag and weight > 0:
            wanted.append((weight, tag.strip()))
    preferred = [tag.replace("-", "_") for _, tag in sorted(wanted, key=lambda w: -w[0])]
    try:
        found = Locale.negotiate(preferred, list(offered), sep="_")
    except (UnknownLocaleError, ValueError):
        found = None
    return str(found) if found else (default if default in offered else offered[0])
