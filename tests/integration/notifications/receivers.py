"""Real receivers on loopback: an SMTP server (aiosmtpd) and a plain HTTP server for webhooks."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the SMTP server accepted; ``refuse`` makes it answer 451 to the next N messages;
    ``hang_up`` makes it answer the next N MAIL FROM with 421 and close the session (as a server
    does with a session it has kept idle too long); ``sessions`` counts the sessions opened (EHLOs)."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: int = 0
    logins: list[str] = field(default_factory=list)
    hang_up: int = 0
    sessions: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        self.sessions += 1
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        if self.hang_up:
            self.hang_up -= 1
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.4.2 idle for too long, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 mailbox busy, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(("plain",)).get_content()

    @staticmethod
    def html(message: EmailMessage) -> str:
        return message.get_body(("html",)).get_content()


class SmtpServer:
    def __init__(self, *, password: str | None = None) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        kwargs = {}
        if password is not None:
            kwargs = {"authenticator": self._authenticator(password), "auth_require_tls": False, "auth_required": True}
        self._kwargs = kwargs
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def restart(self) -> None:
        """Stop the server, which drops every open session, and start it again on the same port."""
        self.controller.stop()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **self._kwargs)
        self.controller.start()

    def _authenticator(self, password: str):
        def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
            ok = isinstance(auth_data, LoginPassword) and auth_data.password == password.encode()
            if ok:
                self.mailbox.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)

        return check

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[Hook] = []
        self.status = 200
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/hooks/mentoring"

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[1:]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if self.status < 300:
            self.received.append(Hook(headers, body))
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()
