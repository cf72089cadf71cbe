"""The one codec for personal data at rest and on the bus: every field the catalog marks ``personal`` is sealed
with the data key of the person it is about (AES-256-GCM, one random key per person, crypto-shredding).

What is personal is read from the catalog (``json_schema_extra={"personal": True}``, at any depth: nested models
and list items, e.g. ``ProfileUpdated.changes[].old``, ``AgreementSigned.goals[].text``, through
``shared.personal``), never from a hand list.  Whose key seals it: the people named by the event's
``data_subjects`` fields (the mentee of a ``RequestRanked``, the recipient of a ``NotificationFailed``), or, for
an event that names nobody itself (a ``RequestReviewed``'s decline reason, an ``AgreementSigned``'s goals), the
people its stream's first event names.  A value about several people is sealed under a key derived from all of
theirs, so erasing any of them makes it unreadable.

A sealed value is ``{"$sealed": "<base64 nonce + ciphertext>", "for": [person ids]}`` in place of the plain
value (``None`` stays ``None``).  Profiles' earlier form ``{"$pii": "<token>"}`` (the participant's key, the
participant id as associated data) is still opened.  Opening without a key (the person was erased, or the
reader is not entitled to it) gives a placeholder that still fits the event's schema (``[erased]``,
``erased@erased.invalid``, ``False``, ``None`` ...), never an error: aggregates rebuild, figures stay, and
the stream replays.

Keys live in the service's own database (``person_keys``, shared migration 005); ``shred`` deletes one for
good (a shredded key is never re-created).  The event store seals as it appends and opens as it loads; the
relay publishes what the store holds, sealed; a consumer opens with the producer's keys
(``shared.keysource``) or sees placeholders.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import types
import typing
from binascii import b2a_base64
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shared.events.base import Event, UnknownEventType, event_class
from shared.personal import is_personal, names_a_person, nested, nested_model

MARK = "$sealed"
LEGACY_MARK = "$pii"  # profiles' form before the shared codec: sealed under the stream's participant
ERASED_TEXT = "[erased]"
ERASED_EMAIL = "erased@erased.invalid"
_NONCE = 12

Keys = Mapping[str, bytes | None]
"""Person id → data key; ``None`` (or absent) once shredded or not available to this reader."""

KeyLookup = Callable[[Sequence[str]], Awaitable[Keys]]


# --- what the catalog marks personal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One personal field of an event: where it is (``*`` = every item of a list) and what stands in for it."""

    path: tuple[str, ...]
    placeholder: Any
    by_sibling: str | None = None  # FieldChange.old/new: the placeholder follows the changed field's own


def leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[Leaf]:
    """Every personal field of ``model``, at every depth."""
    found: list[Leaf] = []
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        if is_personal(field):
            sibling = "field" if "field" in model.model_fields and name in ("old", "new") else None
            found.append(Leaf(path, placeholder_for(field), sibling))
            continue
        inner, listed = nested(field.annotation)
        if inner is not None:
            found += leaves(inner, (*path, "*") if listed else path)
    return found


@functools.cache
def plan(event_type: str) -> tuple[Leaf, ...]:
    """The personal fields of an event type (none for a type the catalog does not know)."""
    try:
        return tuple(leaves(event_class(event_type)))
    except UnknownEventType:
        return ()


def placeholder_for(field: FieldInfo) -> Any:
    """A value that stands for an erased one and still fits the field: text, an address, false, empty, none
    (an optional person id, such as a changed ``employee_id``, becomes none: it must not link to anyone)."""
    if names_a_person(field) and not field.is_required():
        return None
    return _placeholder(field.annotation, field)


def _placeholder(annotation: Any, field: FieldInfo | None) -> Any:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _placeholder(args[0], field)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        if any(_is_text(a) for a in real):
            return _text(field)
        return None if len(real) < len(args) else _placeholder(real[0], field)
    if origin is typing.Literal:
        return args[0]
    if origin is list or annotation is list:
        return []
    if _is_text(annotation):
        return _text(field)
    if annotation is bool:
        return False
    if annotation in (int, float):
        return 0
    if annotation is date:
        return "1970-01-01"
    if annotation is datetime:
        return "1970-01-01T00:00:00+00:00"
    return None  # a model, a JSON value: nothing


def _is_text(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    return annotation is str


def _text(field: FieldInfo | None) -> str:
    pattern = _pattern(field) if field is not None else None
    return ERASED_EMAIL if pattern and "@" in pattern else ERASED_TEXT


def _pattern(field: FieldInfo) -> str | None:
    for meta in [*field.metadata, *(getattr(a, "__metadata__", ()) for a in [field.annotation])]:
        for item in meta if isinstance(meta, tuple) else (meta,):
            if getattr(item, "pattern", None):
                return item.pattern
    for arg in typing.get_args(field.annotation):
        for item in getattr(arg, "__metadata__", ()):
            if getattr(item, "pattern", None):
                return item.pattern
    return None


@functools.cache
def _changed_field_placeholder(path: str) -> Any:
    """``ProfileUpdated.changes[].old/new`` of ``path``: the placeholder of that field in a registration."""
    from shared.events.profiles import MentorRegistered

    model: type[BaseModel] | None = MentorRegistered
    field: FieldInfo | None = None
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = nested_model(field.annotation)
    return None if field is None else placeholder_for(field)


# --- whose key ---------------------------------------------------------------------------------------------


def named_subjects(event: type[Event], data: Mapping[str, Any]) -> list[str]:
    """The people the event's ``data_subjects`` fields name (ids, or lists of ids)."""
    found: list[str] = []
    for name in event.data_subjects:
        value = data.get(name)
        for person in value if isinstance(value, list) else [value]:
            if isinstance(person, str) and person and person not in found:
                found.append(person)
    return found


# --- the cipher ----------------------------------------------------------------------------------------------


def _key_of(subjects: Sequence[str], keys: Keys) -> bytes | None:
    """One person's key as it is; several people's derived from all of theirs (None if any is missing)."""
    material = [keys.get(s) for s in subjects]
    if not material or any(k is None for k in material):
        return None
    if len(material) == 1:
        return material[0]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mentorship sealed for several").derive(
        b"".join(material)  # type: ignore[arg-type]
    )


def _aad(subjects: Sequence[str]) -> bytes:
    """The associated data: the subjects as compact JSON (``json.dumps``'s bytes, which sealed values hold to)."""
    if len(subjects) == 1 and _plain(subjects[0]):  # one person's id, as json.dumps writes it, without json
        return f'["{subjects[0]}"]'.encode()  # (bench/hr_import.py: json.dumps was a tenth of sealing a row)
    return json.dumps(list(subjects), separators=(",", ":")).encode()


def _plain(text: str) -> bool:
    """Text ``json.dumps`` writes as it is: printable ASCII without a quote or a backslash."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def seal_value(value: Any, subjects: Sequence[str], key: bytes) -> dict[str, Any]:
    return _Sealer(subjects, key).seal(value)


class _Nonces:
    """Random nonces handed out in turn from one read of the random source, another read when they run out: a
    bulk seal reads it once for a batch, not once a payload (``os.urandom`` was 2 µs of a first import's row).
    Belongs to one call (``seal_payload``, ``Sealing.seal_many``), never shared between threads."""

    __slots__ = ("at", "pool", "refill")

    def __init__(self, count: int = 8) -> None:
        self.refill = _NONCE * max(count, 8)
        self.pool, self.at = os.urandom(self.refill), 0

    def take(self) -> bytes:
        at = self.at
        if at + _NONCE > len(self.pool):
            self.pool, at = os.urandom(self.refill), 0
        self.at = at + _NONCE
        return self.pool[at : at + _NONCE]


class _Sealer:
    """``seal_value`` for many values of one payload: the cipher and the associated data made once, not per value,
    the nonces from a ``_Nonces`` (bench/hr_import.py: a first import seals six values per row)."""

    __slots__ = ("aad", "encrypt", "nonces", "subjects")

    def __init__(self, subjects: Sequence[str], key: bytes, nonces: _Nonces | None = None) -> None:
        self.subjects, self.encrypt, self.aad = list(subjects), AESGCM(key).encrypt, _aad(subjects)
        self.nonces = nonces if nonces is not None else _Nonces()

    def seal(self, value: Any) -> dict[str, Any]:
        nonce = self.nonces.take()
        sealed = self.encrypt(nonce, _encode(value), self.aad)
        return {MARK: b2a_base64(nonce + sealed, newline=False).decode(), "for": list(self.subjects)}


_encode = msgspec.json.Encoder().encode
"""A value as JSON (UTF-8) for ``open_value``'s ``json.loads``, as ``json.dumps`` gives it but several times faster."""


def open_value(value: dict[str, Any], keys: Keys, stream_id: str, placeholder: Any) -> Any:
    """The plain value of a sealed one, or ``placeholder`` when a key is missing."""
    legacy = LEGACY_MARK in value
    subjects = [stream_id] if legacy else list(value.get("for") or [stream_id])
    key = _key_of(subjects, keys)
    if key is None:
        return placeholder
    aad, token = (stream_id.encode(), value[LEGACY_MARK]) if legacy else (_aad(subjects), value[MARK])
    raw = base64.b64decode(token)
    try:
        return json.loads(AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], aad))
    except InvalidTag:
        return placeholder  # sealed under a key that is no longer this person's: as good as erased


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and (MARK in value or LEGACY_MARK in value)


def sealed_for(value: dict[str, Any], stream_id: str) -> list[str]:
    return [stream_id] if LEGACY_MARK in value else list(value.get("for") or [stream_id])


# --- walking a payload -----------------------------------------------------------------------------------------


def _slots(data: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], str]]:
    """Every (container, key) the path reaches in ``data`` (``*``: each item of a list), in order.  Level by level,
    not a recursive generator: half the time, and walking is a third of sealing a payload (bench/hr_import.py).
    A top-level field and a field of each item of a top-level list (``ProfileUpdated.changes[].new``, what a
    first import seals six of per row) are reached directly, without the levels' lists."""
    if len(path) == 1:
        return [(data, path[0])] if isinstance(data, dict) and path[0] in data else []
    if len(path) == 3 and path[1] == "*" and path[0] != "*" and path[2] != "*":
        items = data.get(path[0]) if isinstance(data, dict) else None
        last = path[2]
        if not isinstance(items, list):
            return []
        return [(item, last) for item in items if isinstance(item, dict) and last in item]
    if not path:
        return []
    level = _descend([data], path[:-1])
    last = path[-1]
    return [(container, last) for container in level if isinstance(container, dict) and last in container]


def _descend(level: list[Any], parts: tuple[str, ...]) -> list[Any]:
    """What the ``parts`` reach from the containers of ``level``, level by level (``*``: each item of a list)."""
    for part in parts:
        if part == "*":
            level = [item for container in level if isinstance(container, list) for item in container]
        else:
            level = [container[part] for container in level if isinstance(container, dict) and part in container]
    return level


def _each_leaf(event_type: str, data: dict[str, Any]) -> list[tuple[Leaf, dict[str, Any], str]]:
    """Every personal field's (leaf, container, key) in ``data``, leaf by leaf; a list, not a generator (a
    generator's resumptions were a tenth of sealing a row: bench/hr_import.py --profile)."""
    return [(leaf, container, key) for leaf in plan(event_type) for container, key in _slots(data, leaf.path)]


def _placeholder_at(leaf: Leaf, container: Mapping[str, Any]) -> Any:
    if leaf.by_sibling is not None and isinstance(container.get(leaf.by_sibling), str):
        return _changed_field_placeholder(container[leaf.by_sibling])
    return leaf.placeholder


def seal_payload(event_type: str, data: dict[str, Any], subjects: Sequence[str], keys: Keys) -> dict[str, Any]:
    """``data`` with every personal value sealed for ``subjects``; a copy.  Without a key for all of them (one
    was erased), the placeholders are stored instead: nothing personal about an erased person is kept.

    Copies the containers on the way to a personal field and seals in the same walk (``_tree``), as
    ``_copied_along`` and ``_each_leaf`` would in two (bench/hr_import.py --profile: the walks were most of
    sealing a first import's row, its six encryptions a tenth)."""
    return _seal_payload(event_type, data, subjects, keys, None)


def _seal_payload(
    event_type: str, data: dict[str, Any], subjects: Sequence[str], keys: Keys, nonces: _Nonces | None
) -> dict[str, Any]:
    """``seal_payload``, its nonces from ``nonces`` (a batch's) when given."""
    tree = _tree(event_type)
    if tree is None:
        return data
    key = _key_of(subjects, keys)
    sealer = _Sealer(subjects, key, nonces) if key is not None else None
    out = dict(data)
    _seal_in(out, tree, sealer)
    return out


class _Node:
    """The personal fields of one level of a payload: those held here, and the levels below (``*``: a list's items).
    For the walk: the fields here by name, the levels below a dict's keys, that of a list's items, and whether
    nothing lies below (the items of ``ProfileUpdated.changes``: sealed in their list's loop, without a call each)."""

    __slots__ = ("below", "flat", "items", "keyed", "leaves", "named")

    def __init__(self, leaves: tuple[Leaf, ...], below: tuple[tuple[str, _Node], ...]) -> None:
        self.leaves, self.below = leaves, below
        self.named = tuple((leaf.path[-1], leaf) for leaf in leaves)
        self.keyed = tuple((part, node) for part, node in below if part != "*")
        self.items = next((node for part, node in below if part == "*"), None)
        self.flat = not below


@functools.cache
def _tree(event_type: str) -> _Node | None:
    """``plan(event_type)`` as a tree of the levels it walks through (None: nothing personal)."""
    leaves = plan(event_type)
    return _node(leaves, 0) if leaves else None


def _node(leaves: Sequence[Leaf], depth: int) -> _Node:
    here = tuple(leaf for leaf in leaves if len(leaf.path) == depth + 1)
    parts = list(dict.fromkeys(leaf.path[depth] for leaf in leaves if len(leaf.path) > depth + 1))
    below = tuple(
        (part, _node([leaf for leaf in leaves if len(leaf.path) > depth + 1 and leaf.path[depth] == part], depth + 1))
        for part in parts
    )
    return _Node(here, below)


def _seal_in(value: Any, node: _Node, sealer: _Sealer | None) -> None:
    """Seal (or, without a sealer, replace by placeholders) ``node``'s fields in ``value``, a copy already, each
    container below it copied on the way: what ``_copied_along`` copies and ``_each_leaf`` reaches."""
    if isinstance(value, dict):
        for part, below in node.keyed:
            if part in value:
                value[part] = inner = _shallow(value[part])
                _seal_in(inner, below, sealer)
        if node.named:
            _seal_here(value, node.named, sealer)
    elif isinstance(value, list) and node.items is not None:
        below = node.items
        if not below.flat:
            for i, item in enumerate(value):
                value[i] = item = _shallow(item)
                _seal_in(item, below, sealer)
            return
        named = below.named
        for i, item in enumerate(value):  # what _seal_in does with each item, in this loop
            if isinstance(item, dict):
                value[i] = item = dict(item)
                _seal_here(item, named, sealer)
            elif isinstance(item, list):
                value[i] = list(item)


def _seal_here(value: dict[str, Any], named: tuple[tuple[str, Leaf], ...], sealer: _Sealer | None) -> None:
    """The fields of one container (a copy): each there, not ``None`` and not sealed yet, sealed or replaced."""
    for name, leaf in named:
        field = value.get(name)
        if field is None or (isinstance(field, dict) and (MARK in field or LEGACY_MARK in field)):
            continue
        value[name] = sealer.seal(field) if sealer is not None else _placeholder_at(leaf, value)


def _copied_along(data: dict[str, Any], leaves: Sequence[Leaf]) -> dict[str, Any]:
    """A copy of ``data`` in which every dict and list on the way to a personal field is new (what sealing
    replaces a value in), the rest shared with ``data``: what ``copy.deepcopy`` gives for the sealing, without
    copying every value (bench/hr_import.py: the deep copy was a third of sealing a row)."""
    out = dict(data)
    for prefix in _containers(tuple(leaf.path for leaf in leaves)):
        last = prefix[-1]
        for container in _descend([out], prefix[:-1]):
            if last == "*" and isinstance(container, list):
                container[:] = [_shallow(item) for item in container]
            elif last != "*" and isinstance(container, dict) and last in container:
                container[last] = _shallow(container[last])
    return out


def _shallow(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value


@functools.cache
def _containers(paths: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """Every path to a container holding a personal field, each once, outermost first."""
    prefixes = {path[:n] for path in paths for n in range(1, len(path))}
    return tuple(sorted(prefixes, key=len))


def needs_sealing(event_type: str, data: dict[str, Any]) -> bool:
    """Whether the payload holds a personal value to seal: one that is there, not ``None`` and not sealed yet
    (``seal_payload`` leaves the others as they are, so a payload without one needs no subjects and no keys)."""
    tree = _tree(event_type)
    return tree is not None and _holds_unsealed(data, tree)


def _holds_unsealed(value: Any, node: _Node) -> bool:
    """``needs_sealing`` on the tree ``seal_payload`` walks, stopping at the first value to seal."""
    if isinstance(value, dict):
        for name, _ in node.named:
            field = value.get(name)
            if field is not None and not (isinstance(field, dict) and (MARK in field or LEGACY_MARK in field)):
                return True
        return any(part in value and _holds_unsealed(value[part], below) for part, below in node.keyed)
    if isinstance(value, list) and node.items is not None:
        below = node.items
        return any(_holds_unsealed(item, below) for item in value)
    return False


def sealed_subjects(event_type: str, data: dict[str, Any], stream_id: str) -> list[str]:
    """Every person whose key a payload's sealed values need."""
    people: list[str] = []
    for _, container, name in _each_leaf(event_type, data):
        if is_sealed(container[name]):
            people += [p for p in sealed_for(container[name], stream_id) if p not in people]
    return people


def open_payload(event_type: str, data: dict[str, Any], keys: Keys, stream_id: str) -> dict[str, Any]:
    """``data`` with every sealed value opened, or its placeholder where a key is missing; a copy if changed."""
    if not any(is_sealed(c[n]) for _, c, n in _each_leaf(event_type, data)):
        return data
    # Only the containers on the way to a personal field are copied, as in sealing (a deep copy of the whole
    # payload was most of what a consumer without keys spent opening a record: bench/load.py --profile).
    return _open_all(event_type, _copied_along(data, plan(event_type)), keys, stream_id)


def _open_all(event_type: str, data: dict[str, Any], keys: Keys, stream_id: str) -> dict[str, Any]:
    for leaf, container, name in _each_leaf(event_type, data):
        value = container[name]
        if is_sealed(value):
            container[name] = open_value(value, keys, stream_id, _placeholder_at(leaf, container))
    return data


def personal_values(event_type: str, data: dict[str, Any]) -> Iterable[Any]:
    """The values at the payload's personal fields, as they are (sealed or not): for tests and reports."""
    for _, container, name in _each_leaf(event_type, data):
        yield container[name]


# --- the store's codec ---------------------------------------------------------------------------------------

_KEYS_OR_NEW = """
WITH fresh AS (
    INSERT INTO person_keys (participant_id, data_key)
    SELECT id, key FROM unnest($1::text[], $2::bytea[]) AS k(id, key)
    ON CONFLICT (participant_id) DO NOTHING
    RETURNING participant_id, data_key
)
SELECT participant_id, data_key FROM fresh
UNION ALL
SELECT participant_id, data_key FROM person_keys WHERE participant_id = ANY($1::text[])
"""

_STREAM_FIRST = "SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY version LIMIT 1"
_STREAMS_FIRST = (
    "SELECT DISTINCT ON (stream_id) stream_id, event_type, data FROM events"
    " WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, version"
)


def _first_of(row: Mapping[str, Any]) -> tuple[str, dict]:
    return row["event_type"], row["data"] if isinstance(row["data"], dict) else json.loads(row["data"])


def _named_by_first(first: tuple[str, dict] | None, stream_id: str) -> list[str]:
    """Whom a stream's first event names (its ``data_subjects``), else the stream itself."""
    if first is None:
        return [stream_id]
    try:
        named = named_subjects(event_class(first[0]), first[1])
    except UnknownEventType:
        named = []
    return named or [stream_id]


class Sealing:
    """The event store's codec (``shared.eventstore.PayloadCodec``) on the service's own ``person_keys``."""

    async def seal(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        event_type: str,
        data: dict,
        earlier: Sequence[tuple[str, dict]] = (),
    ) -> dict:
        """``earlier``: the events appended before this one in the same statement (not stored yet)."""
        if not needs_sealing(event_type, data):
            return data
        subjects = await self.subjects(conn, stream_id, event_type, data, earlier)
        return seal_payload(event_type, data, subjects, await self.keys(conn, subjects, create=True))

    async def open(self, conn: asyncpg.Connection, stream_id: str, event_type: str, data: dict) -> dict:
        if not plan(event_type):
            return data
        people = sealed_subjects(event_type, data, stream_id)
        if not people:
            return data
        return open_payload(event_type, data, await self.keys(conn, people, create=False), stream_id)

    async def open_many(self, conn: asyncpg.Connection, payloads: Sequence[tuple[str, str, dict]]) -> list[dict]:
        """``open`` for several ``(stream_id, event_type, data)`` at once, with one read of the keys."""
        people: list[str] = []
        for stream_id, event_type, data in payloads:
            if plan(event_type):
                people += sealed_subjects(event_type, data, stream_id)
        if not people:
            return [data for _, _, data in payloads]
        keys = await self.keys(conn, people, create=False)
        return [open_payload(event_type, data, keys, stream_id) for stream_id, event_type, data in payloads]

    async def subjects(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        event_type: str,
        data: dict,
        earlier: Sequence[tuple[str, dict]] = (),
    ) -> list[str]:
        """Whom the event's personal data is about: the people it names, else those its stream's first event
        names (stored, or the first of ``earlier`` on a new stream), else the stream itself (its own key)."""
        own = named_subjects(event_class(event_type), data)
        if own:
            return own
        first = await conn.fetchrow(_STREAM_FIRST, stream_id)
        return _named_by_first(_first_of(first) if first is not None else earlier[0] if earlier else None, stream_id)

    async def seal_many(
        self, conn: asyncpg.Connection, items: Sequence[tuple[str, str, dict, Sequence[tuple[str, dict]]]]
    ) -> list[dict]:
        """``seal`` for several ``(stream_id, event_type, data, earlier)`` at once (a bulk append): the same
        subjects and keys, with one read of the streams' first events and one round trip for the keys."""
        own = [named_subjects(event_class(t), d) if plan(t) else [] for _, t, d, _ in items]
        unnamed = list(dict.fromkeys(s for (s, t, _, _), o in zip(items, own, strict=True) if plan(t) and not o))
        stored: dict[str, tuple[str, dict]] = {}
        if unnamed:
            rows = await conn.fetch(_STREAMS_FIRST, unnamed)
            stored = {r["stream_id"]: _first_of(r) for r in rows}
        subjects = [
            (o or _named_by_first(stored.get(s) or (earlier[0] if earlier else None), s)) if plan(t) else []
            for (s, t, _, earlier), o in zip(items, own, strict=True)
        ]
        people = [p for found in subjects for p in found]
        keys = await self.keys(conn, people, create=True) if people else {}
        nonces = _Nonces(8 * len(items))  # one read of the random source for the batch (six values a row sealed)
        return [
            _seal_payload(t, d, found, keys, nonces) if found else d
            for (_, t, d, _), found in zip(items, subjects, strict=True)
        ]

    async def keys(self, conn: asyncpg.Connection, people: Sequence[str], *, create: bool) -> dict[str, bytes | None]:
        """The people's keys; ``None`` for a shredded one (never re-created) or, without ``create``, an unknown one."""
        people = list(dict.fromkeys(people))
        if create:
            material = os.urandom(32 * len(people))  # one read of the random source for a batch's new people
            fresh = [material[i : i + 32] for i in range(0, len(material), 32)]
            rows = await conn.fetch(_KEYS_OR_NEW, people, fresh)
            found = {r["participant_id"]: r["data_key"] for r in rows}
            if len(found) < len(people):  # another transaction created one meanwhile: read it now
                rows = await conn.fetch(
                    "SELECT participant_id, data_key FROM person_keys WHERE participant_id = ANY($1::text[])", people
                )
                found = {r["participant_id"]: r["data_key"] for r in rows}
        else:
            rows = await conn.fetch(
                "SELECT participant_id, data_key FROM person_keys WHERE participant_id = ANY($1::text[])", people
            )
            found = {r["participant_id"]: r["data_key"] for r in rows}
        return {p: (bytes(found[p]) if found.get(p) is not None else None) for p in people}

    async def shred(self, conn: asyncpg.Connection, participant_id: str) -> bool:
        """Delete the person's key for good; whether this service held one (else it records that it never may)."""
        held = await conn.fetchval(
            "SELECT data_key IS NOT NULL FROM person_keys WHERE participant_id = $1", participant_id
        )
        await conn.execute(
            "INSERT INTO person_keys (participant_id, data_key, shredded_at) VALUES ($1, NULL, now())"
            " ON CONFLICT (participant_id) DO UPDATE SET data_key = NULL,"
            " shredded_at = coalesce(person_keys.shredded_at, now())",
            participant_id,
        )
        return bool(held)
