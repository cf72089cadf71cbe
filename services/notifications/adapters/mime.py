"""An outgoing e-mail as bytes: multipart/alternative, plain text + HTML, both quoted-printable UTF-8; with a
meeting's invitation, multipart/mixed of those and the ``invite.ics`` attachment (text/calendar, base64).

Built by hand rather than with ``email.message.EmailMessage``: the standard
library's default policy parses every header it is given and costs about 2 ms
per message, which at a few hundred messages a second was the largest single
cost of the delivery path.  The layout is fixed and small, so it is written
directly; only the pieces that need care use the library's encoders (RFC 2047
for non-ASCII headers, quoted-printable for bodies).  The result reads back with
``email.message_from_bytes(..., policy=email.policy.default)``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from services.notifications.domain.outgoing import Outgoing


def header(name: str, value: str) -> bytes:
    """One header line, RFC 2047-encoded (and folded) when the value is not plain short ASCII."""
    value = " ".join(value.split())  # no raw line breaks may reach the wire
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}\r\n".encode("ascii")
    encoded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode("ascii")


def _address(name: str | None, email: str) -> str:
    return formataddr((name or "", email))  # encodes a non-ASCII display name per RFC 2047


def _body(content_type: str, text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    ).encode("ascii") + encoded.replace(b"\n", b"\r\n")


def _with_calendar(boundary: str, alternative: bytes, calendar: str) -> bytes:
    """multipart/mixed: the text and HTML alternatives, then the invitation as ``invite.ics`` (text/calendar with
    the iTIP method, so calendar clients offer to add, update or remove the event)."""
    inner = f"=_{uuid.uuid4().hex}"
    method = next((line[7:].strip() for line in calendar.splitlines() if line.startswith("METHOD:")), "PUBLISH")
    encoded = base64.encodebytes(calendar.encode("utf-8")).replace(b"\n", b"\r\n")
    return b"".join(
        (
            f'--{boundary}\r\nContent-Type: multipart/alternative; boundary="{inner}"\r\n\r\n'.encode("ascii"),
            alternative.replace(boundary.encode("ascii"), inner.encode("ascii")),
            f"\r\n--{boundary}\r\n".encode("ascii"),
            (
                f'Content-Type: text/calendar; charset="utf-8"; method={method}; name="invite.ics"\r\n'
                'Content-Disposition: attachment; filename="invite.ics"\r\n'
                "Content-Transfer-Encoding: base64\r\n\r\n"
            ).encode("ascii"),
            encoded,
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        )
    )


class MimeWriter:
    """Writes messages from one sender; the From header is encoded once."""

    def __init__(self, mail_from: str) -> None:
        name, self.sender = parseaddr(mail_from)
        if "@" not in self.sender:
            raise ValueError(f"MAIL_FROM {mail_from!r} holds no e-mail address")
        self._from = header("From", _address(name, self.sender))

    @staticmethod
    def _to(name: str | None, email: str) -> bytes:
        if email.isascii():
            return header("To", _address(name, email))
        return f"To: {_address(name, email)}\r\n".encode()  # an internationalised address goes as UTF-8 (SMTPUTF8)

    def build(self, message: Outgoing) -> bytes:
        """The message as it goes after DATA (CRLF line endings; the SMTP client adds dot-stuffing)."""
        if not message.email:
            raise ValueError("an e-mail needs a recipient address")
        boundary = f"=_{uuid.uuid4().hex}"  # "=_" never occurs in quoted-printable text
        head = b"".join(
            (
                self._from,
                self._to(message.name, message.email),
                header("Subject", message.subject),
                f"Date: {formatdate(usegmt=True)}\r\nMessage-ID: {message.message_id}\r\n".encode("ascii"),
                header("X-Mentorship-Template", message.template),
                f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(
                    "ascii"
                ),
            )
        )
        part = f"\r\n--{boundary}\r\n".encode("ascii")
        alternative = b"".join(
            (
                part[2:],
                _body("text/plain", message.text),
                part,
                _body("text/html", message.html),
                f"\r\n--{boundary}--\r\n".encode("ascii"),
            )
        )
        if message.calendar is None:
            return head + alternative
        return head.replace(b"multipart/alternative", b"multipart/mixed", 1) + _with_calendar(
            boundary, alternative, message.calendar
        )
