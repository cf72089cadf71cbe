"""The hand-written MIME message reads back with the standard library exactly as it was meant; SMTP
command addresses are quoted without a parser for plain ones, and never carry a second command."""

from __future__ import annotations

import uuid
from email import message_from_bytes, policy

import pytest

from services.notifications.adapters.channels import _quoted
from services.notifications.adapters.mime import MimeWriter
from services.notifications.domain.outgoing import Outgoing

pytestmark = pytest.mark.unit

TEXT = (
    "Dear Zoë,\n\n.a line that starts with a dot\nFrom the start of a line\ntrailing space \n"
    + "x" * 200
    + "\n— Office\n"
)
HTML = "<p>Dear <strong>Zoë</strong> &amp; co</p>\n"


def outgoing(**overrides) -> Outgoing:
    fields = {
        "notification_id": uuid.uuid4(),
        "message_id": "<n-1@notifications.example>",
        "cause_id": "c-1",
        "recipient_id": "p-1",
        "name": "Zoë O'Brien, MD",
        "email": "zoe@uni.example",
        "template": "introduction",
        "subject": "Introduction: meet Jürgen Müller, your mentor — a subject far longer than one folded header line",
        "text": TEXT,
        "html": HTML,
    }
    return Outgoing(**{**fields, **overrides})


def read(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def test_headers_and_both_bodies_read_back_unchanged() -> None:
    raw = MimeWriter("Büro für Mentoring <office@uni.example>").build(outgoing())
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    mail = read(raw)
    assert mail["From"].addresses[0].display_name == "Büro für Mentoring"
    assert mail["From"].addresses[0].addr_spec == "office@uni.example"
    assert mail["To"].addresses[0].display_name == "Zoë O'Brien, MD"
    assert mail["To"].addresses[0].addr_spec == "zoe@uni.example"
    assert mail["Subject"] == outgoing().subject
    assert mail["Message-ID"] == "<n-1@notifications.example>"
    assert mail["X-Mentorship-Template"] == "introduction"
    assert mail["Date"] is not None and mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    assert mail.get_body(("html",)).get_content().replace("\r\n", "\n") == HTML
    assert not mail.defects and not any(part.defects for part in mail.walk())


def test_a_header_value_cannot_smuggle_in_another_header() -> None:
    mail = read(MimeWriter("office@uni.example").build(outgoing(subject="Hello\r\nBcc: victim@example.org")))
    assert mail["Bcc"] is None and mail["Subject"] == "Hello Bcc: victim@example.org"


def test_each_message_gets_its_own_boundary() -> None:
    writer = MimeWriter("office@uni.example")
    first, second = read(writer.build(outgoing())), read(writer.build(outgoing()))
    assert first.get_boundary() != second.get_boundary()


def test_a_sender_without_an_address_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="MAIL_FROM"):
        MimeWriter("Mentoring Office")


def test_smtp_command_addresses_are_quoted_and_cannot_carry_a_second_command() -> None:
    assert _quoted("ann.lee+mentoring@uni.example") == b"<ann.lee+mentoring@uni.example>"
    assert _quoted("Ann Lee <ann@uni.example>") == b"<ann@uni.example>"  # not plain: parsed as aiosmtplib would
    assert b"\r" not in _quoted("ann@uni.example\r\nRCPT TO:<eve@evil.example>")
    with pytest.raises(ValueError):
        _quoted("ann lee@uni.example")
