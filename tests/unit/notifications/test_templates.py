"""Templates: built-in defaults, per-program overrides of single files, HTML escaped and text not."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.notifications.adapters.templates import BUILT_IN, Templates

pytestmark = pytest.mark.unit

PERSON = {"name": "Ann <Lee>", "email": "ann@uni.example"}


def context() -> dict:
    return {
        "recipient": PERSON,
        "other": {"name": "Bo & Co", "email": "bo@uni.example"},
        "role": "mentee",
        "match_id": "m-1",
    }


def test_every_built_in_template_has_subject_text_and_html() -> None:
    names = {p.stem for p in BUILT_IN.iterdir() if not p.name.startswith("_")}
    for name in names:
        assert {f"{name}.subject", f"{name}.txt", f"{name}.html"} <= {p.name for p in BUILT_IN.iterdir()}, name
    assert len(names) >= 12


def test_html_is_escaped_and_plain_text_is_not() -> None:
    rendered = Templates().render("introduction", context())
    assert rendered.subject == "Introduction: meet Bo & Co, your mentor"
    assert "Bo & Co" in rendered.text and "Bo &amp; Co" in rendered.html and "Ann &lt;Lee&gt;" in rendered.html


def test_a_program_folder_overrides_single_files_and_inherits_the_rest(tmp_path: Path) -> None:
    (tmp_path / "nursing").mkdir()
    (tmp_path / "default").mkdir()
    (tmp_path / "nursing" / "introduction.subject").write_text("Nursing mentors: welcome {{ other.name }}")
    (tmp_path / "default" / "introduction.txt").write_text("Institution default for {{ recipient.name }}")
    nursing = Templates(tmp_path, "nursing").render("introduction", context())
    assert nursing.subject == "Nursing mentors: welcome Bo & Co"
    assert nursing.text == "Institution default for Ann <Lee>"
    assert "delighted to introduce" in nursing.html
    other = Templates(tmp_path, "surgery").render("introduction", context())
    assert other.subject.startswith("Introduction:") and other.text.startswith("Institution default")
