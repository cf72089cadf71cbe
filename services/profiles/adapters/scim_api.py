"""HTTP: SCIM 2.0 ``/scim/v2/Users`` for identity providers (RFC 7644), bearer role hr-integration or admin.

Bodies are ``application/scim+json`` (plain JSON accepted); every error is a
SCIM error message.  ``ETag``/``If-Match`` carry the user's version.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.profiles.adapters.container import Container
from services.profiles.application import provision_scim_user
from services.profiles.application.commands import CreateScimUser, DeleteScimUser, PatchScimUser, ReplaceScimUser
from services.profiles.domain import scim
from services.profiles.domain.scim import ScimProblem
from shared.auth import InvalidToken, Principal, Role, verify_token
from shared.limits import MalformedBody

MEDIA_TYPE = "application/scim+json"
_bearer = HTTPBearer(auto_error=False)
_SCIM_BODY = {
    "requestBody": {
        "required": True,
        "content": {MEDIA_TYPE: {"schema": {"type": "object"}}, "application/json": {"schema": {"type": "object"}}},
    }
}


def identity_provider(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise ScimProblem(401, None, "missing bearer token")
    try:
        principal = verify_token(request.app.state.jwt_secret, credentials.credentials)
    except InvalidToken as exc:
        raise ScimProblem(401, None, f"invalid token: {exc}") from exc
    if not principal.has_any({Role.admin, Role.hr_integration}):
        raise ScimProblem(403, None, "requires one of the roles: admin, hr-integration")
    return principal


router = APIRouter(prefix="/scim/v2", tags=["scim"], dependencies=[Depends(identity_provider)])
IfMatch = Annotated[str | None, Header(description='W/"<version>" of the user; stale → 412')]


def install(app: FastAPI) -> None:
    """The routes and SCIM's own error messages (not ``shared.http``'s: RFC 7644 §3.12)."""
    app.include_router(router)
    app.add_exception_handler(ScimProblem, _problem)


def scim_response(body: dict, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=MEDIA_TYPE, headers=headers)


@router.post("/Users", status_code=201, openapi_extra=_SCIM_BODY)
async def create_user(request: Request, container: Container) -> Response:
    row = await provision_scim_user.create(container, CreateScimUser(await _body(request)))
    return _user_response(request, row, 201)


@router.get("/Users/{user_id}")
async def get_user(user_id: str, request: Request, container: Container) -> Response:
    row = await container.queries.scim_user(user_id)
    if row is None:
        raise ScimProblem(404, None, f"no user {user_id}")
    return _user_response(request, row)


@router.put("/Users/{user_id}", openapi_extra=_SCIM_BODY)
async def replace_user(user_id: str, request: Request, container: Container, if_match: IfMatch = None) -> Response:
    replace = ReplaceScimUser(user_id, await _body(request), _version(if_match))
    return _user_response(request, await provision_scim_user.replace(container, replace))


@router.patch("/Users/{user_id}", openapi_extra=_SCIM_BODY)
async def patch_user(user_id: str, request: Request, container: Container, if_match: IfMatch = None) -> Response:
    patch = PatchScimUser(user_id, await _body(request), _version(if_match))
    return _user_response(request, await provision_scim_user.patch(container, patch))


@router.delete("/Users/{user_id}", status_code=204)
async def delete_user(user_id: str, container: Container) -> Response:
    await provision_scim_user.delete(container, DeleteScimUser(user_id))
    return Response(status_code=204)


@router.get("/Users")
async def list_users(
    request: Request,
    container: Container,
    filter: Annotated[str | None, Query(max_length=1000, description='userName eq "…" or externalId eq "…"')] = None,
    startIndex: Annotated[str | None, Query(description="1-based")] = None,
    count: Annotated[str | None, Query(description="Page size, at most 200")] = None,
) -> Response:
    attribute, value = scim.parse_filter(filter) if filter is not None else (None, None)
    start = max(_integer("startIndex", startIndex, 1), 1)
    size = min(max(_integer("count", count, 100), 0), 200)
    rows, total = await container.queries.scim_users(attribute, value, start - 1, size)
    return scim_response(
        {
            "schemas": [scim.LIST],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(rows),
            "Resources": [_representation(request, row) for row in rows],
        }
    )


def _representation(request: Request, row: dict) -> dict[str, Any]:
    location = str(request.url_for("get_user", user_id=row["user_id"]))
    return {
        **row["resource"],
        "id": row["user_id"],
        "active": row["resource"].get("active", True),
        "meta": {
            "resourceType": "User",
            "created": _iso(row["created_at"]),
            "lastModified": _iso(row["updated_at"]),
            "version": f'W/"{row["version"]}"',
            "location": location,
        },
    }


def _user_response(request: Request, row: dict, status_code: int = 200) -> JSONResponse:
    body = _representation(request, row)
    return scim_response(body, status_code, {"ETag": body["meta"]["version"], "Location": body["meta"]["location"]})


async def _body(request: Request) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (MEDIA_TYPE, "application/json"):
        raise ScimProblem(415, None, f"content type must be {MEDIA_TYPE}, not {media or 'missing'}")
    try:
        return json.loads(await request.body())  # checked at the edge first (shared.limits): depth, numbers, keys
    except MalformedBody as exc:
        raise scim.invalid(exc.reason, "invalidSyntax") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise scim.invalid(f"the body is not JSON: {exc}", "invalidSyntax") from exc


def _version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise scim.invalid('If-Match must be a version, e.g. W/"3"')
    return int(text)


def _integer(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise scim.invalid(f"{name} must be an integer") from None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScimProblem)
    body: dict[str, Any] = {"schemas": [scim.ERROR], "status": str(exc.status), "detail": exc.detail}
    if exc.scim_type:
        body["scimType"] = exc.scim_type
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return scim_response(body, exc.status, headers)
