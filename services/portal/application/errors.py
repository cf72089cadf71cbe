"""What a call to another service can end in, besides an answer: each is shown to the person, never a stack trace.

The API client (``adapters/api_client.py``) turns HTTP answers into these; pages catch the ones they can explain
next to a form (``FieldErrors``, ``Conflict``), and the app shows the others as a page section (``adapters/web.py``).
"""

from __future__ import annotations


class ApiError(Exception):
    """Another service refused the call (a 4xx the page does not explain better); ``detail`` is its reason."""

    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__(f"{service} answered {status}: {detail}")
        self.service, self.status, self.detail = service, status, detail


class ServiceDown(Exception):
    """The service did not answer, or answered with a server error or "overloaded": try again later."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} is unavailable: {reason}")
        self.service, self.reason = service, reason


class SignInNeeded(Exception):
    """The person's tokens are gone or refused: they sign in again."""


class FieldErrors(ApiError):
    """422: the service named the fields it refused (``fields``: dotted body path → reason)."""

    def __init__(self, service: str, fields: dict[str, str]) -> None:
        super().__init__(service, 422, "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class Conflict(ApiError):
    """409: someone changed the thing meanwhile, or a rule of the program refuses the change now."""


class NotFound(ApiError):
    """404 or 410: nothing there (or nothing this person may see)."""


class Refused(ApiError):
    """403: this person may not do that."""


def field_errors(detail: object) -> dict[str, str]:
    """A 422 ``detail`` (FastAPI's shape: ``loc``, ``msg``) as dotted field paths without ``body``/``query``."""
    found: dict[str, str] = {}
    if isinstance(detail, list):
        for item in detail:
            if not isinstance(item, dict):
                continue
            loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
            found.setdefault(".".join(loc) or "_", str(item.get("msg", "is not valid")))
    elif detail:
        found["_"] = str(detail)
    return found
