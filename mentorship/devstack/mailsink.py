"""The development mail sink: a real SMTP server that keeps every message it accepts and serves them as JSON.

``mentorship dev up`` points notifications at it, so the mails the platform sends (introductions, forwarded
requests, nudges) land here instead of nowhere; the portal shows them, in development mode only, at ``/dev/mail``
through its HTTP API (never by reading a file of another process). Development tooling, not a service: no
authentication, loopback only.

One process (``python -m mentorship.devstack.mailsink``) runs both servers on one event loop: aiosmtpd's SMTP
server, and a small Starlette app on uvicorn (``GET /mails``, ``GET /mails/{id}``, ``GET /healthz``). Each
accepted message is appended to ``mails.jsonl`` in the store directory as one JSON line, so a kept data
directory (``dev up --data DIR``: ``DIR/mail``) keeps the mails of earlier runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import httpx

from mentorship.devstack.processes import ManagedProcess, free_port

DEFAULT_SMTP_PORT = 1025
DEFAULT_HTTP_PORT = 8025
STORE_FILE = "mails.jsonl"
MAX_LIMIT = 500


@dataclass(frozen=True)
class MailSink:
    """A running sink: where notifications sends (``smtp_port``) and where the mails are read (``url``)."""

    smtp_host: str
    smtp_port: int
    url: str
    store: Path
    process: ManagedProcess

    def notifications_env(self) -> dict[str, str]:
        """Notifications' settings that send every mail to this sink."""
        return {
            "MENTORSHIP_NOTIFICATIONS_SMTP_HOST": self.smtp_host,
            "MENTORSHIP_NOTIFICATIONS_SMTP_PORT": str(self.smtp_port),
            "MENTORSHIP_NOTIFICATIONS_SMTP_STARTTLS": "false",
            "MENTORSHIP_NOTIFICATIONS_SMTP_TLS": "false",
        }

    def mails(self, **params: str | int) -> list[dict]:
        response = httpx.get(f"{self.url}/mails", params=params, timeout=10)
        response.raise_for_status()
        return response.json()["items"]


class MailStore:
    """The kept mails: ``mails.jsonl`` (one message a line, in arrival order) and its copy in memory."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / STORE_FILE
        self.mails: list[dict] = []
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    self.mails.append(json.loads(line))
                except json.JSONDecodeError:  # a line cut short by a crash while it was written
                    continue

    def add(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> dict:
        message = _PARSER.parsebytes(content)
        mail = {
            "id": (self.mails[-1]["id"] + 1) if self.mails else 1,
            "received_at": datetime.now(UTC).isoformat(),
            "envelope_from": mail_from,
            "envelope_to": list(rcpt_tos),
            "from": _header(message, "From"),
            "to": _header(message, "To"),
            "subject": _header(message, "Subject"),
            "message_id": _header(message, "Message-ID"),
            "date": _header(message, "Date"),
            "text": _body(message, "plain"),
            "html": _body(message, "html"),
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(mail) + "\n")
        self.mails.append(mail)
        return mail

    def newest(self, *, to: str | None = None, subject: str | None = None, limit: int = 100) -> list[dict]:
        found = []
        for mail in reversed(self.mails):
            if to and not any(to.lower() in r.lower() for r in [mail["to"], *mail["envelope_to"]]):
                continue
            if subject and subject.lower() not in mail["subject"].lower():
                continue
            found.append(mail)
            if len(found) >= limit:
                break
        return found

    def get(self, mail_id: int) -> dict | None:
        return next((m for m in self.mails if m["id"] == mail_id), None)


# The sink parses every mail the platform sends (5,300 in the full demo): the compat32 parser with the headers
# decoded by hand gives what ``policy.default`` gave (unfolded, RFC 2047 words decoded) at a twentieth of its CPU
# (3.3 ms → 0.2 ms a mail, ``tests/integration/test_mail_sink.py`` keeps them equal).
_PARSER = BytesParser(policy=policy.compat32)
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    return str(make_header(decode_header(_FOLD.sub("", str(value)))))


def _body(message: Message, kind: str) -> str | None:
    """The first ``text/<kind>`` part's text (the plain or the HTML alternative), or None."""
    for part in message.walk():
        if part.get_content_type() == f"text/{kind}" and part.get_content_disposition() != "attachment":
            payload = part.get_payload(decode=True)
            try:
                text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
            except LookupError:  # a charset Python does not know
                text = payload.decode("utf-8", errors="replace")
            return text.replace("\r\n", "\n")
    return None


class _Handler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server, session, envelope) -> str:
        self.store.add(envelope.mail_from, envelope.rcpt_tos, envelope.original_content or envelope.content)
        return "250 2.0.0 kept by the development mail sink"


def _app(store: MailStore):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def mails(request: Request) -> JSONResponse:
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            return JSONResponse({"detail": f"limit: a whole number from 1 to {MAX_LIMIT}"}, status_code=422)
        items = store.newest(
            to=request.query_params.get("to"), subject=request.query_params.get("subject"), limit=int(raw)
        )
        return JSONResponse({"items": items, "total": len(store.mails)})

    async def one(request: Request) -> JSONResponse:
        raw = request.path_params["mail_id"]
        mail = store.get(int(raw)) if raw.isdigit() else None
        if mail is None:
            return JSONResponse({"detail": f"no mail {raw}"}, status_code=404)
        return JSONResponse(mail)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "mails": len(store.mails)})

    return Starlette(
        routes=[Route("/mails", mails), Route("/mails/{mail_id}", one), Route("/healthz", healthz)],
    )


async def serve(host: str, smtp_port: int, http_port: int, store_dir: Path) -> None:
    import uvicorn
    from aiosmtpd.smtp import SMTP

    store = MailStore(store_dir)
    handler = _Handler(store)
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(
        lambda: SMTP(handler, hostname="mail-sink.mentorship.local", ident="mentorship dev mail sink"),
        host,
        smtp_port,
    )
    config = uvicorn.Config(_app(store), host=host, port=http_port, log_level="warning", lifespan="off")
    try:
        await uvicorn.Server(config).serve()
    finally:
        smtp.close()
        await smtp.wait_closed()


@contextmanager
def start_mail_sink(
    store: Path, *, fixed_ports: bool = True, log_dir: Path | None = None, timeout: float = 30.0
) -> Iterator[MailSink]:
    """Start the sink as its own process (on 1025 and 8025, or free ports); stop it on exit."""
    host = "127.0.0.1"
    smtp_port = DEFAULT_SMTP_PORT if fixed_ports else free_port()
    http_port = DEFAULT_HTTP_PORT if fixed_ports else free_port()
    argv = [sys.executable, "-m", "mentorship.devstack.mailsink", "--host", host]
    argv += ["--smtp-port", str(smtp_port), "--http-port", str(http_port), "--store", str(store)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = ManagedProcess(argv, env=env, log_path=(log_dir / "mail-sink.log") if log_dir else None, name="mail-sink")
    url = f"http://{host}:{http_port}"
    with process:
        _wait_ready(process, url, host, smtp_port, timeout)
        yield MailSink(host, smtp_port, url, store, process)


def _wait_ready(process: ManagedProcess, url: str, host: str, smtp_port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    process.wait_for_port(host, smtp_port, timeout)
    while time.monotonic() < deadline:
        if not process.is_running():
            raise RuntimeError(f"the mail sink exited during start-up:\n{process.log_tail()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the mail sink at {url} not ready after {timeout}s:\n{process.log_tail()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=DEFAULT_SMTP_PORT)
    parser.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT)
    parser.add_argument("--store", type=Path, required=True, help="Directory that keeps mails.jsonl")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--host: the sink has no authentication, so it listens on loopback only")
    with suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.smtp_port, args.http_port, args.store))


if __name__ == "__main__":
    main()
