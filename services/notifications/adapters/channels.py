"""Delivery channels: e-mail over SMTP and signed webhooks into an institution's own tools."""

from __future__ import annotations

import asyncio
import json
import re
import time

import aiosmtplib
import httpx
from aiosmtplib import (
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPStatus,
)
from aiosmtplib.email import quote_address

from services.notifications.adapters.mime import MimeWriter
from services.notifications.domain.outgoing import Outgoing, Undeliverable
from services.notifications.domain.signing import (
    NOTIFICATION_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from services.notifications.settings import NotificationsSettings


class EmailChannel:
    """E-mail over SMTP, on up to ``smtp_connections`` sessions kept open and reused message after message.

    Opening a session (TCP, EHLO, maybe STARTTLS and AUTH) costs more than sending a message on it,
    so sessions are pooled.  A pooled session may have been dropped by the server while it sat idle;
    that shows at MAIL FROM, before anything of the message went out, so the message is sent on a
    fresh session instead (once).  Any failure from DATA on is the message's failure: whether the
    server took it is unknown, and the worker's retry rule (same Message-ID) decides.
    """

    def __init__(self, options: NotificationsSettings) -> None:
        self.options = options
        self.writer = MimeWriter(options.mail_from)
        self._sender = _quoted(self.writer.sender)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._slots = asyncio.Semaphore(options.smtp_connections)
        self.opened = 0  # sessions opened so far (for tests and metrics)

    async def send(self, message: Outgoing) -> None:
        if not message.email:
            raise Undeliverable(f"no e-mail address known for {message.recipient_id}")
        data = self.writer.build(message)
        recipient = _quoted(message.email)  # an address that cannot be sent fails here, before any session
        utf8 = [b"SMTPUTF8"] if not message.email.isascii() else []
        async with self._slots:
            client, reused = self._checkout()
            try:
                if client is None:
                    client = await self._connect()
                try:
                    await self._envelope(client, recipient, utf8)
                except (SMTPServerDisconnected, SMTPResponseException, ConnectionError) as exc:
                    if not (reused and _session_gone(exc)):
                        raise
                    client.close()
                    client, reused = await self._connect(), False
                    await self._envelope(client, recipient, utf8)
                await client.data(data)
            except SMTPResponseException as exc:  # refused in an orderly way: the session can go on
                if client is not None and exc.code != 421 and await self._reset(client):
                    self._idle.append((client, time.monotonic()))
                elif client is not None:
                    client.close()
                raise
            except BaseException:
                if client is not None:
                    client.close()
                raise
            self._idle.append((client, time.monotonic()))

    async def _envelope(self, client: aiosmtplib.SMTP, recipient: bytes, options: list[bytes]) -> None:
        """MAIL FROM and RCPT TO, as ``client.mail``/``client.rcpt`` send them but without parsing a
        plain address through ``email.utils`` twice per message (a tenth of the send path's CPU)."""
        response = await client.execute_command(b"MAIL", b"FROM:" + self._sender, *options)
        if response.code != SMTPStatus.completed:
            raise SMTPSenderRefused(response.code, response.message, self.writer.sender)
        response = await client.execute_command(b"RCPT", b"TO:" + recipient)
        if response.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
            raise SMTPRecipientRefused(response.code, response.message, recipient.decode(errors="replace"))

    def _checkout(self) -> tuple[aiosmtplib.SMTP | None, bool]:
        """The most recently used idle session that is still open and fresh enough, else ``None``."""
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and time.monotonic() - since < self.options.smtp_idle_seconds:
                return client, True
            client.close()
        return None, False

    async def _connect(self) -> aiosmtplib.SMTP:
        o = self.options
        client = aiosmtplib.SMTP(
            hostname=o.smtp_host,
            port=o.smtp_port,
            start_tls=o.smtp_starttls,
            use_tls=o.smtp_tls,
            username=o.smtp_username,
            password=o.smtp_password,
            timeout=o.smtp_timeout_seconds,
            local_hostname=o.smtp_helo_name,
        )
        await client.connect()
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        self.opened += 1
        return client

    @staticmethod
    async def _reset(client: aiosmtplib.SMTP) -> bool:
        """Clear the refused transaction; ``False`` if the session is no good any more."""
        try:
            await client.rset()
        except (SMTPException, OSError):
            return False
        return client.is_connected

    async def close(self) -> None:
        """Say QUIT on every idle session (called when the service stops)."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            try:
                await client.quit()
            except (SMTPException, OSError):
                pass
            finally:
                client.close()


# An addr-spec with nothing to quote or strip: no display name, spaces, controls or specials.
_PLAIN_ADDRESS = re.compile(r"[^\s\x00-\x1f\x7f<>()\[\]\\,;:\"@]+@[^\s\x00-\x1f\x7f<>()\[\]\\,;:\"@]+")


def _quoted(address: str) -> bytes:
    """``<address>`` for an SMTP command; anything but a plain address goes through aiosmtplib's parser,
    which also refuses characters that could inject a command."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>".encode()
    return quote_address(address).encode()


def _session_gone(exc: Exception) -> bool:
    """The server ended the session (idle timeout, restart), as opposed to refusing this message."""
    return not isinstance(exc, SMTPResponseException) or exc.code == 421


class WebhookChannel:
    def __init__(self, url: str, secret: str, client: httpx.AsyncClient) -> None:
        self.url, self.secret, self.client = url, secret, client

    async def send(self, message: Outgoing) -> None:
        body = json.dumps(
            {
                "notification_id": str(message.notification_id),
                "cause_id": message.cause_id,
                "recipient_id": message.recipient_id,
                "name": message.name,
                "email": message.email,
                "template": message.template,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
            }
        ).encode()
        timestamp = str(int(time.time()))
        response = await self.client.post(
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                NOTIFICATION_HEADER: str(message.notification_id),
            },
        )
        if response.status_code >= 300:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
