"""Render claimed intents into messages: the contacts of everyone a batch names come in one query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from services.notifications.application.ports import Claimed, Contacts, Intents, Renderer
from services.notifications.application.record_notices import DIGEST
from services.notifications.domain.causes import message_id
from services.notifications.domain.outgoing import Outgoing
from services.notifications.domain.people import Person, people_ids, resolve, with_people
from services.notifications.settings import NotificationsSettings
from shared.ports import Conn


class Composer:
    def __init__(
        self, contacts: Contacts, intents: Intents, templates: Renderer, options: NotificationsSettings
    ) -> None:
        self.contacts, self.intents, self.templates, self.options = contacts, intents, templates, options

    async def compose_all(self, conn: Conn, claimed: Sequence[Claimed]) -> dict[uuid.UUID, Outgoing | Exception]:
        """Each intent's message, or the error that stops it being written (that message's failure)."""
        people = await self.people(conn, set().union(*(people_ids(c.recipient_id, c.context) for c in claimed)))
        composed: dict[uuid.UUID, Outgoing | Exception] = {}
        for intent in claimed:
            try:
                composed[intent.notification_id] = await self.compose(conn, intent, people)
            except Exception as exc:
                composed[intent.notification_id] = exc
        return composed

    async def compose(self, conn: Conn, intent: Claimed, people: dict[str, Person]) -> Outgoing:
        recipient, context = intent.recipient_id, intent.context
        if intent.template == DIGEST:
            context = dict(context, items=await self.digest_items(conn, recipient, context["items"]))
        rendered = self.templates.render(intent.template, with_people(context, people, recipient))
        who = people[recipient]
        return Outgoing(
            notification_id=intent.notification_id,
            message_id=message_id(intent.notification_id, self.options.message_id_domain),
            cause_id=intent.cause_id,
            recipient_id=recipient,
            name=who["name"],
            email=who["email"],
            template=intent.template,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            calendar=rendered.calendar,
        )

    async def digest_items(self, conn: Conn, recipient: str, items: list[str]) -> list[dict[str, Any]]:
        """Each bundled intent rendered for the recipient: its subject and text."""
        held = await self.intents.contents(conn, [uuid.UUID(item) for item in items])
        bundled = [held[uuid.UUID(item)] for item in items]
        people = await self.people(conn, set().union(*(people_ids(recipient, b.context) for b in bundled)))
        rendered = [self.templates.render(b.template, with_people(b.context, people, recipient)) for b in bundled]
        return [{"subject": r.subject, "text": r.text} for r in rendered]

    async def people(self, conn: Conn, ids: set[str]) -> dict[str, Person]:
        return resolve(ids, await self.contacts.known(conn, ids), self.options.director_emails)
