"""HTTP/1.1 on a bare socket, for what an ordinary client hides: an answer that comes before the body is sent.

httpx (like most clients) sends the whole body before it reads the answer; a server that refuses a 300 MiB
body at once is only visible to a client that reads while it writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MIB = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # from the request's head being sent to the answer's status line
    body_sent: int  # body bytes the client had written by then


async def post(
    url: str, path: str, headers: dict[str, str], length: int, *, send_body: bool, method: str = "POST"
) -> Answer:
    """Send the head with ``Content-Length: length``; then, if ``send_body``, the body in 1 MiB chunks while
    reading the answer.  Without ``send_body`` the body is never sent: an answer at all proves it was not read."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {length}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    await writer.drain()
    started = time.perf_counter()
    sent = 0

    async def pump() -> None:
        nonlocal sent
        chunk = b"x" * MIB
        while sent < length:
            piece = chunk[: min(MIB, length - sent)]
            writer.write(piece)
            await writer.drain()
            sent += len(piece)

    pumping = asyncio.create_task(pump()) if send_body else None
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=30)
        seconds, body_sent = time.perf_counter() - started, sent
        answer_headers: dict[str, str] = {}
        while (line := await asyncio.wait_for(reader.readline(), timeout=30)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        body = await asyncio.wait_for(reader.readexactly(int(answer_headers.get("content-length", "0"))), 30)
    finally:
        if pumping is not None:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pumping
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return Answer(int(status_line.split()[1]), answer_headers, body, seconds, body_sent)
