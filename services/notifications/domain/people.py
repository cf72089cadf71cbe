"""Who a message names: the participant ids in a notice's context, resolved to name and address at render time.

A context value under a person key (``mentee_id``, ``mentor_id``, ``other_id``) names one participant,
one under a people key (``mentee_ids``, ...) several; rendering adds ``mentee``, ``mentees`` ... as
``{name, email}``.  A director configured by address only is their own id; anyone else without a
contact is "a participant" with no address (so an e-mail to them fails visibly and is retried).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

PERSON_KEYS = frozenset({"mentee_id", "mentor_id", "other_id", "organizer_id"})
PEOPLE_KEYS = frozenset({"mentee_ids", "ranked_mentor_ids", "tried_mentor_ids", "attendee_ids"})

Person = dict[str, Any]
"""``{"name": ..., "email": ..., "time_zone": ...}`` as templates see it (a zone only when profiles gave one)."""


def people_ids(recipient: str, context: Mapping[str, Any]) -> set[str]:
    """The recipient and everyone the context names."""
    ids = {recipient}
    for key, value in context.items():
        if key in PERSON_KEYS and value:
            ids.add(value)
        elif key in PEOPLE_KEYS:
            ids.update(value)
    return ids


def resolve(ids: Iterable[str], known: Mapping[str, Person], director_emails: Collection[str]) -> dict[str, Person]:
    """Each id as a person: its contact, or the fallbacks above."""
    return {
        pid: known.get(pid)
        or (
            {"name": "Program director", "email": pid}
            if pid in director_emails
            else {"name": "a participant", "email": None}
        )
        for pid in ids
    }


def with_people(context: Mapping[str, Any], people: Mapping[str, Person], recipient: str) -> dict[str, Any]:
    """The template context: the notice's plus ``recipient`` and every named person resolved."""
    enriched = dict(context, recipient=people[recipient])
    for key, value in context.items():
        if key in PERSON_KEYS and value:
            enriched[key.removesuffix("_id")] = people[value]
        elif key in PEOPLE_KEYS:
            enriched[key.removesuffix("_ids") + "s"] = [people[v] for v in value]
    return enriched
