"""Delivery channels: e-mail over SMTP and signed webhooks into an institution's own tools."""

from __future__ import annotations

import json
import time
from email.message import EmailMessage
from email.utils import formataddr

import aiosmtplib
import httpx

from services.notifications.domain.outgoing import Outgoing, Undeliverable
from services.notifications.domain.signing import (
    NOTIFICATION_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from services.notifications.settings import NotificationsSettings


class EmailChannel:
    def __init__(self, options: NotificationsSettings) -> None:
        self.options = options

    async def send(self, message: Outgoing) -> None:
        if not message.email:
            raise Undeliverable(f"no e-mail address known for {message.recipient_id}")
        mail = EmailMessage()
        mail["From"] = self.options.mail_from
        mail["To"] = formataddr((message.name or "", message.email))
        mail["Subject"] = message.subject
        mail["Message-ID"] = message.message_id
        mail["X-Mentorship-Template"] = message.template
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        o = self.options
        await aiosmtplib.send(
            mail, hostname=o.smtp_host, port=o.smtp_port, start_tls=o.smtp_starttls, use_tls=o.smtp_tls,
            username=o.smtp_username, password=o.smtp_password, timeout=o.smtp_timeout_seconds,
            local_hostname=o.smtp_helo_name,
        )


class WebhookChannel:
    def __init__(self, url: str, secret: str, client: httpx.AsyncClient) -> None:
        self.url, self.secret, self.client = url, secret, client

    async def send(self, message: Outgoing) -> None:
        body = json.dumps({
            "notification_id": str(message.notification_id), "cause_id": message.cause_id,
            "recipient_id": message.recipient_id, "name": message.name, "email": message.email,
            "template": message.template, "subject": message.subject, "text": message.text, "html": message.html,
        }).encode()
        timestamp = str(int(time.time()))
        response = await self.client.post(self.url, content=body, headers={
            "Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body), NOTIFICATION_HEADER: str(message.notification_id),
        })
        if response.status_code >= 300:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
