"""What a request body may be, checked once at the HTTP edge for every service and every route.

Size: ``ServiceSettings.http_max_body_bytes`` (1 MiB) for every route; a route that takes a batch or a file
says so with ``max_body_size=BULK_BODY_BYTES`` in its decorator.  FastAPI enforces both (Starlette's
body-limit middleware: the ``Content-Length`` up front, a chunked body counted while it streams) → 413.

Shape: a JSON body is checked before any route decodes it (``check_json``): valid UTF-8 JSON, nested at most
``MAX_JSON_DEPTH`` levels, numbers Python can hold (at most 4,300 digits, finite), no NUL character in any key
or string (Postgres text cannot hold one: 422 naming the field, as a field's validation would), no key twice in
one object (refused: with last-wins a second key would silently override what a reader of the body sees first)
→ 400 naming the problem, and where it is.
The decoder is pydantic-core's (jiter): it does not recurse on the C stack, so 100,000 levels of ``[`` are a
400, not a ``RecursionError``.  A body in another media type than the route takes → 415.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pydantic_core
from fastapi import HTTPException, status

MIB = 1024 * 1024
DEFAULT_BODY_BYTES = 1 * MIB
"""The default of ``MENTORSHIP_HTTP_MAX_BODY_BYTES``: a command's body is a few kilobytes."""
BULK_BODY_BYTES = 16 * MIB
"""Routes that take a batch or a file: HR import rows and rosters (profiles), bulk-match cohorts (matching)."""
BULK_ROUTES = {"profiles": ("/hr/imports",), "matching": ("/bulk-runs",)}
"""Path prefixes whose routes declare ``BULK_BODY_BYTES``; the deployment's proxy limits follow this table."""
MAX_JSON_DEPTH = 32
"""Objects and arrays nested deeper than this are refused (the deepest body any route takes nests 6)."""
MAX_INT_DIGITS = 4300
"""Python's own limit for turning digits into an int (``sys.get_int_max_str_digits``)."""


class MalformedBody(HTTPException):
    """A body refused before any route reads it: 400 (not JSON the platform takes), 415 (media type), or 422 in
    FastAPI's validation shape for text no field may hold (a NUL character), naming the field."""

    def __init__(self, detail: str | list[dict[str, Any]], status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        super().__init__(status_code=status_code, detail=detail)

    @property
    def reason(self) -> str:
        """The detail as one line (for an API with its own error format, e.g. SCIM)."""
        if isinstance(self.detail, str):
            return self.detail
        return "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in self.detail)


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json`` (e.g. SCIM's ``application/scim+json``)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_media_type(content_type: str | None, accepted: str = "application/json") -> None:
    """A JSON route takes JSON in UTF-8; anything else (or no ``Content-Type`` at all) → 415."""
    if not is_json_media_type(content_type):
        shown = (content_type or "").split(";")[0].strip() or "missing"
        raise MalformedBody(
            f"Content-Type must be {accepted}, not {shown}", status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
        )
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise MalformedBody(
                f"a JSON body is UTF-8, not {value.strip()}", status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
            )


def check_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse (``MalformedBody``) a body that is not JSON this platform takes; return quietly otherwise."""
    try:
        # Only keys looked up in jiter's string cache: values (names, e-mails, ids) seldom repeat, and caching each
        # made a 1,000-row import batch's check 7 % slower (bench/hr_import.py's rows, timeit).
        value = pydantic_core.from_json(body, allow_inf_nan=False, cache_strings="keys")
    except ValueError as exc:
        raise MalformedBody(_decode_error(str(exc))) from None
    members = _members(value, max_depth, nul_possible=b"\\u0000" in body)
    del value  # before anything else is built: a batch body's objects are several times its size
    if members != body.count(b":"):  # a key written twice, or only a colon inside a string: look closer
        _refuse_duplicate_keys(body)


def _refuse_duplicate_keys(body: bytes) -> None:
    """In valid JSON a colon outside a string only ever separates a key from its value, and the decoder keeps one
    member per key: so when the body holds exactly as many colons as the decoded objects hold members, no key was
    written twice (the common case, checked without building anything).  Otherwise decode once more, noting keys."""
    try:
        json.loads(body, object_pairs_hook=_unique_keys)  # depth is bounded by now: no deep recursion here
    except _DuplicateKey as exc:
        raise MalformedBody(
            f"the JSON body has the key {exc.key!r} twice in one object; each key may appear once"
        ) from None


def _decode_error(message: str) -> str:
    if message.startswith("recursion limit exceeded"):
        return f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
    if message.startswith("number out of range"):
        return f"the JSON body has a number too large to take (more than {MAX_INT_DIGITS} digits), {_where(message)}"
    if "unicode" in message or "utf-8" in message.lower() or "hex escape" in message:
        return f"the JSON body is not valid UTF-8 text ({message})"
    return f"the body is not valid JSON: {message}"


def _where(message: str) -> str:
    at = message.rfind(" at line ")
    return message[at + 1 :] if at >= 0 else "in the body"


def _members(value: Any, max_depth: int, *, nul_possible: bool) -> int:
    """``_walk``'s answer, found level by level without a path per container or a call per value; ``_walk`` itself
    only when something is wrong (for its message) or a NUL may be in a string (a valid body has a NUL only as the
    escape ``\\u0000``, a raw one is refused by the decoder).  bench/hr_import.py: the walk was a third of the
    time an import batch spent at the edge."""
    if nul_possible or not isinstance(value, dict | list):
        return _walk(value, max_depth)
    members, depth, level = 0, 0, [value]
    while level:
        if depth >= max_depth:
            return _walk(value, max_depth)
        below: list[Any] = []
        for container in level:
            if type(container) is dict:
                members += len(container)
                items = container.values()
            else:
                items = container
            for item in items:
                kind = type(item)
                if kind is dict or kind is list:
                    below.append(item)
                elif kind is float and not math.isfinite(item):
                    return _walk(value, max_depth)
        level, depth = below, depth + 1
    return members


def _walk(value: Any, max_depth: int) -> int:
    """Depth, NUL characters and non-finite numbers, without recursion (a stack of the containers left to see);
    returns the number of object members."""
    members = 0
    containers: list[tuple[dict | list, tuple[str | int, ...]]] = []
    if isinstance(value, dict | list):
        containers.append((value, ()))
    else:
        _check_scalar(value, ())
    while containers:
        container, path = containers.pop()
        if len(path) >= max_depth:
            raise MalformedBody(f"the JSON body nests deeper than {max_depth} levels (at {_field(path)})")
        if isinstance(container, dict):
            members += len(container)
            items: Any = container.items()
            for key in container:
                if "\x00" in key:
                    raise _nul((*path, key))
        else:
            items = enumerate(container)
        for where, item in items:
            if isinstance(item, dict | list):
                containers.append((item, (*path, where)))
            else:
                _check_scalar(item, (*path, where))
    return members


def _check_scalar(item: Any, path: tuple[str | int, ...]) -> None:
    if isinstance(item, str):
        if "\x00" in item:
            raise _nul(path)
    elif isinstance(item, float) and not math.isfinite(item):
        raise MalformedBody(f"{_field(path)}: the number is out of range")


def _nul(path: tuple[str | int, ...]) -> MalformedBody:
    problem = {"loc": ["body", *path], "msg": "text may not contain NUL (\\u0000) characters", "type": "value_error"}
    return MalformedBody([problem], status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _field(path: tuple[str | int, ...]) -> str:
    return ".".join(["body", *map(str, path)])


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj
