"""HTTP: SCIM 2.0 under ``/scim/v2`` for identity providers (RFC 7644), bearer role hr-integration or admin.

``/Users`` (workers), ``/Groups`` (departments), ``/.search``, and discovery (``/ServiceProviderConfig``,
``/ResourceTypes``, ``/Schemas``).  Bodies are ``application/scim+json`` (plain JSON accepted); every
answer under ``/scim/v2``, an unknown path, a wrong method or a server fault included, is a SCIM error
message (``install`` scopes the handlers to these paths and leaves the rest of the service's answers to
the handlers installed before).  ``ETag``/``If-Match`` carry the resource's version.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.profiles.adapters import scim_discovery
from services.profiles.adapters.container import Container
from services.profiles.application import provision_scim_group, provision_scim_user
from services.profiles.application.commands import (
    CreateScimGroup,
    CreateScimUser,
    DeleteScimGroup,
    DeleteScimUser,
    PatchScimGroup,
    PatchScimUser,
    ReplaceScimGroup,
    ReplaceScimUser,
)
from services.profiles.domain import scim
from services.profiles.domain.scim import ScimProblem
from shared.auth import InvalidToken, Principal, Role, authenticate
from shared.issuer import IssuerUnavailable
from shared.limits import MalformedBody

PREFIX = "/scim/v2"
MEDIA_TYPE = "application/scim+json"
_bearer = HTTPBearer(auto_error=False)
_OBJECT = {"type": "object", "additionalProperties": True}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["schemas", "status"],
    "properties": {
        "schemas": {"type": "array", "items": {"type": "string", "enum": [scim.ERROR]}},
        "status": {"type": "string", "description": "The HTTP status code, as a string"},
        "scimType": {
            "type": "string",
            "enum": [
                "invalidFilter",
                "tooMany",
                "uniqueness",
                "mutability",
                "invalidSyntax",
                "invalidPath",
                "noTarget",
                "invalidValue",
                "invalidVers",
                "sensitive",
            ],
        },
        "detail": {"type": "string"},
    },
}
_SCIM_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "A SCIM error message (RFC 7644 §3.12): 400 with scimType invalidSyntax, invalidValue, "
        "invalidFilter, invalidPath, noTarget or mutability; 401 without a valid token; 403 without the role; "
        "404 unknown resource or path; 405 method; 409 uniqueness; 412 stale If-Match; 415 media type",
        "content": {MEDIA_TYPE: {"schema": _ERROR_SCHEMA}},
    },
    "5XX": {"description": "A SCIM error message", "content": {MEDIA_TYPE: {"schema": _ERROR_SCHEMA}}},
}
_SCIM_BODY = {
    "requestBody": {
        "required": True,
        "content": {MEDIA_TYPE: {"schema": _OBJECT}, "application/json": {"schema": _OBJECT}},
    }
}


class ScimJSONResponse(JSONResponse):
    media_type = MEDIA_TYPE


async def identity_provider(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise ScimProblem(401, None, "missing bearer token")
    try:
        principal = await authenticate(request.app, credentials.credentials)
    except InvalidToken as exc:
        raise ScimProblem(401, None, f"invalid token: {exc}") from exc
    except IssuerUnavailable as exc:
        raise ScimProblem(503, None, f"cannot check the token now: {exc}") from exc
    if not principal.has_any({Role.admin, Role.hr_integration}):
        raise ScimProblem(403, None, "requires one of the roles: admin, hr-integration")
    return principal


def _router(tag: str) -> APIRouter:
    return APIRouter(
        prefix=PREFIX,
        tags=[tag],
        dependencies=[Depends(identity_provider)],
        default_response_class=ScimJSONResponse,
        responses=_SCIM_ERRORS,
    )


users = _router("scim-users")
groups = _router("scim-groups")
discovery = _router("scim-discovery")
IfMatch = Annotated[str | None, Header(description='W/"<version>" of the resource; stale → 412')]
Attributes = Annotated[
    str | None, Query(max_length=2000, description="Comma-separated attributes to return (and those always returned)")
]
Excluded = Annotated[
    str | None,
    Query(alias="excludedAttributes", max_length=2000, description="Comma-separated attributes to leave out"),
]
Filter = Annotated[str | None, Query(max_length=1000, description='<attribute> eq "…" (see the resource type)')]
StartIndex = Annotated[str | None, Query(alias="startIndex", description="1-based")]
Count = Annotated[str | None, Query(description=f"Page size, at most {scim_discovery.MAX_RESULTS}")]


def install(app: FastAPI) -> None:
    """The routes, and SCIM's error messages for every answer under ``/scim/v2`` (RFC 7644 §3.12)."""
    app.include_router(discovery)
    app.include_router(users)
    app.include_router(groups)
    app.add_exception_handler(ScimProblem, _problem)
    defaults: list[tuple[type[Exception], Any]] = [
        (StarletteHTTPException, http_exception_handler),
        (RequestValidationError, request_validation_exception_handler),
        (Exception, None),
    ]
    for kind, default in defaults:
        app.add_exception_handler(kind, _scoped(app.exception_handlers.get(kind, default)))


# --- discovery ---


@discovery.get("/ServiceProviderConfig")
async def service_provider_config(request: Request) -> Response:
    """What the server supports: PATCH, filters (eq), ETags; no bulk, sorting or password change."""
    return scim_response(scim_discovery.service_provider_config(_base(request)))


@discovery.get("/ResourceTypes")
async def resource_types(request: Request) -> Response:
    """User (with the enterprise extension) and Group."""
    return scim_response(_listed(scim_discovery.resource_types(_base(request))))


@discovery.get("/ResourceTypes/{name}")
async def resource_type(name: str, request: Request) -> Response:
    """One resource type by name."""
    return scim_response(_one(scim_discovery.resource_types(_base(request)), name, "resource type"))


@discovery.get("/Schemas")
async def schemas(request: Request) -> Response:
    """The User, enterprise User and Group schemas, with the platform's rules (immutable employee number,
    password never returned, a group is a department)."""
    return scim_response(_listed(scim_discovery.schemas(_base(request))))


@discovery.get("/Schemas/{schema_id}")
async def schema(schema_id: str, request: Request) -> Response:
    """One schema by its URN."""
    return scim_response(_one(scim_discovery.schemas(_base(request)), schema_id, "schema"))


@discovery.post("/.search", openapi_extra=_SCIM_BODY)
async def search_all(request: Request, container: Container) -> Response:
    """A search over users and groups (RFC 7644 §3.4.3): a filter on an attribute both have (externalId, id)."""
    search = _search(await _body(request))
    attribute, value = _filter(search["filter"], ("externalId", "id"))
    start, count = search["startIndex"], search["count"]
    found_users, total_users = await container.queries.scim_users(attribute, value, 0, start - 1 + count)
    found_groups, total_groups = await container.queries.scim_groups(attribute, value, 0, start - 1 + count)
    rows = await _users(request, container, found_users) + await _groups(request, container, found_groups)
    page = [scim.project(r, search["attributes"], search["excludedAttributes"]) for r in rows]
    return scim_response(_page(page[start - 1 : start - 1 + count], total_users + total_groups, start))


# --- users ---


@users.post("/Users", status_code=201, openapi_extra=_SCIM_BODY)
async def create_user(
    request: Request, container: Container, attributes: Attributes = None, excluded: Excluded = None
) -> Response:
    """Provision a worker: the user becomes an HR fact effective today. A password is dropped, never stored."""
    row = await provision_scim_user.create(container, CreateScimUser(await _body(request)))
    return _resource_response(await _user(request, container, row), attributes, excluded, 201)


@users.post("/Users/.search", openapi_extra=_SCIM_BODY)
async def search_users(request: Request, container: Container) -> Response:
    """Users found by a SearchRequest body (filter, startIndex, count, attributes, excludedAttributes)."""
    search = _search(await _body(request))
    attribute, value = _filter(search["filter"], scim.USER_FILTERS)
    found = await container.queries.scim_users(attribute, value, search["startIndex"] - 1, search["count"])
    return await _found_page(
        request, container, _users, found, search["startIndex"], search["attributes"], search["excludedAttributes"]
    )


@users.get("/Users/{user_id}")
async def get_user(
    user_id: str, request: Request, container: Container, attributes: Attributes = None, excluded: Excluded = None
) -> Response:
    """One user; ``ETag`` is its version."""
    row = await container.queries.scim_user(user_id)
    if row is None:
        raise ScimProblem(404, None, f"no user {user_id}")
    return _resource_response(await _user(request, container, row), attributes, excluded)


@users.put("/Users/{user_id}", openapi_extra=_SCIM_BODY)
async def replace_user(
    user_id: str,
    request: Request,
    container: Container,
    if_match: IfMatch = None,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    """Replace the user; the employee number cannot change (left out, it is kept)."""
    replace = ReplaceScimUser(user_id, await _body(request), _version(if_match))
    return _resource_response(
        await _user(request, container, await provision_scim_user.replace(container, replace)), attributes, excluded
    )


@users.patch("/Users/{user_id}", openapi_extra=_SCIM_BODY)
async def patch_user(
    user_id: str,
    request: Request,
    container: Container,
    if_match: IfMatch = None,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    """PatchOp add, replace, remove; ``active: false`` makes the worker a leaver."""
    patch = PatchScimUser(user_id, await _body(request), _version(if_match))
    row = await provision_scim_user.patch(container, patch)
    return _resource_response(await _user(request, container, row), attributes, excluded)


@users.delete("/Users/{user_id}", status_code=204, response_class=Response)
async def delete_user(user_id: str, container: Container) -> Response:
    """Deactivate the participant, then forget the SCIM user."""
    await provision_scim_user.delete(container, DeleteScimUser(user_id))
    return Response(status_code=204)


@users.get("/Users")
async def list_users(
    request: Request,
    container: Container,
    filter: Filter = None,
    start_index: StartIndex = None,
    count: Count = None,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    """A page of users; filter ``userName``, ``externalId`` or ``id`` ``eq "…"``."""
    attribute, value = _filter(filter, scim.USER_FILTERS)
    start, size = _paging(start_index, count)
    found = await container.queries.scim_users(attribute, value, start - 1, size)
    shown, left_out = scim.attribute_list(attributes), scim.attribute_list(excluded)
    return await _found_page(request, container, _users, found, start, shown, left_out)


# --- groups (departments) ---


@groups.post("/Groups", status_code=201, openapi_extra=_SCIM_BODY)
async def create_group(
    request: Request, container: Container, attributes: Attributes = None, excluded: Excluded = None
) -> Response:
    """Create a department; its members move into it."""
    row = await provision_scim_group.create(container, CreateScimGroup(await _body(request)))
    return _resource_response(_group(request, row), attributes, excluded, 201)


@groups.post("/Groups/.search", openapi_extra=_SCIM_BODY)
async def search_groups(request: Request, container: Container) -> Response:
    """Groups found by a SearchRequest body."""
    search = _search(await _body(request))
    attribute, value = _filter(search["filter"], scim.GROUP_FILTERS)
    found = await container.queries.scim_groups(attribute, value, search["startIndex"] - 1, search["count"])
    return await _found_page(
        request, container, _groups, found, search["startIndex"], search["attributes"], search["excludedAttributes"]
    )


@groups.get("/Groups/{group_id}")
async def get_group(
    group_id: str, request: Request, container: Container, attributes: Attributes = None, excluded: Excluded = None
) -> Response:
    """One group with its members (the users of that department)."""
    row = await container.queries.scim_group(group_id)
    if row is None:
        raise ScimProblem(404, None, f"no group {group_id}")
    return _resource_response(_group(request, row), attributes, excluded)


@groups.put("/Groups/{group_id}", openapi_extra=_SCIM_BODY)
async def replace_group(
    group_id: str,
    request: Request,
    container: Container,
    if_match: IfMatch = None,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    """Rename the department or set its members (those left out move out of it)."""
    replace = ReplaceScimGroup(group_id, await _body(request), _version(if_match))
    return _resource_response(
        _group(request, await provision_scim_group.replace(container, replace)), attributes, excluded
    )


@groups.patch("/Groups/{group_id}", openapi_extra=_SCIM_BODY)
async def patch_group(
    group_id: str,
    request: Request,
    container: Container,
    if_match: IfMatch = None,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    """PatchOp on displayName or members (``members[value eq "<id>"]`` to remove one)."""
    patch = PatchScimGroup(group_id, await _body(request), _version(if_match))
    return _resource_response(_group(request, await provision_scim_group.patch(container, patch)), attributes, excluded)


@groups.delete("/Groups/{group_id}", status_code=204, response_class=Response)
async def delete_group(group_id: str, container: Container) -> Response:
    """Delete the department: its members move out of it."""
    await provision_scim_group.delete(container, DeleteScimGroup(group_id))
    return Response(status_code=204)


@groups.get("/Groups")
async def list_groups(
    request: Request,
    container: Container,
    filter: Filter = None,
    start_index: StartIndex = None,
    count: Count = None,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    """A page of groups; filter ``displayName``, ``externalId`` or ``id`` ``eq "…"``."""
    attribute, value = _filter(filter, scim.GROUP_FILTERS)
    start, size = _paging(start_index, count)
    found = await container.queries.scim_groups(attribute, value, start - 1, size)
    shown, left_out = scim.attribute_list(attributes), scim.attribute_list(excluded)
    return await _found_page(request, container, _groups, found, start, shown, left_out)


# --- representations ---


def scim_response(body: dict, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=MEDIA_TYPE, headers=headers)


def _meta(kind: str, row: dict, location: str) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": _iso(row["created_at"]),
        "lastModified": _iso(row["updated_at"]),
        "version": f'W/"{row["version"]}"',
        "location": location,
    }


async def _users(request: Request, container: Container, rows: list[dict]) -> list[dict[str, Any]]:
    """Users as SCIM answers them: without secrets, with ``groups`` (the group of their department, if any)."""
    groups = await container.queries.scim_groups_named([scim.department(r["resource"]) or "" for r in rows])
    answers = []
    for row in rows:
        location = str(request.url_for("get_user", user_id=row["user_id"]))
        user = {**scim.without_secrets(row["resource"]), "id": row["user_id"], "meta": _meta("User", row, location)}
        user.pop("groups", None)  # read-only: what the platform knows, never what a client sent
        group = groups.get((scim.department(row["resource"]) or "").lower())
        if group is not None:
            group_id, name = group
            user["groups"] = [
                {
                    "value": group_id,
                    "display": name,
                    "type": "direct",
                    "$ref": str(request.url_for("get_group", group_id=group_id)),
                }
            ]
        answers.append(user)
    return answers


async def _user(request: Request, container: Container, row: dict) -> dict[str, Any]:
    return (await _users(request, container, [row]))[0]


async def _groups(request: Request, _: Container, rows: list[dict]) -> list[dict[str, Any]]:
    """Groups as SCIM answers them (the same call as ``_users``, so one listing serves both)."""
    return [_group(request, row) for row in rows]


def _group(request: Request, row: dict) -> dict[str, Any]:
    location = str(request.url_for("get_group", group_id=row["group_id"]))
    members = [
        {"value": user_id, "type": "User", "$ref": str(request.url_for("get_user", user_id=user_id))}
        for user_id in row["members"]
    ]
    return {
        **row["resource"],
        "schemas": [scim.GROUP],
        "id": row["group_id"],
        "members": members,
        "meta": _meta("Group", row, location),
    }


def _resource_response(
    body: dict[str, Any], attributes: str | None, excluded: str | None, status_code: int = 200
) -> JSONResponse:
    meta = body["meta"]
    shown = scim.project(body, scim.attribute_list(attributes), scim.attribute_list(excluded))
    return scim_response(shown, status_code, {"ETag": meta["version"], "Location": meta["location"]})


Represent = Callable[[Request, Container, list[dict]], Awaitable[list[dict[str, Any]]]]


async def _found_page(
    request: Request,
    container: Container,
    represent: Represent,
    found: tuple[list[dict], int],
    start: int,
    attributes: list[str],
    excluded: list[str],
) -> JSONResponse:
    """A ListResponse of the rows a listing or search ``found`` (rows, total), each as ``represent`` answers it
    (``_users`` or ``_groups``), with only the attributes asked for."""
    rows, total = found
    page = [scim.project(r, attributes, excluded) for r in await represent(request, container, rows)]
    return scim_response(_page(page, total, start))


def _page(resources: list[dict[str, Any]], total: int, start: int) -> dict[str, Any]:
    return {
        "schemas": [scim.LIST],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def _listed(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return _page(resources, len(resources), 1)


def _one(resources: list[dict[str, Any]], key: str, what: str) -> dict[str, Any]:
    found = next((r for r in resources if r["id"].lower() == key.lower()), None)
    if found is None:
        raise ScimProblem(404, None, f"no {what} {key}")
    return found


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


# --- request parts ---


async def _body(request: Request) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (MEDIA_TYPE, "application/json"):
        raise ScimProblem(415, None, f"content type must be {MEDIA_TYPE}, not {media or 'missing'}")
    try:
        body = json.loads(await request.body())  # checked at the edge first (shared.limits): depth, numbers, keys, NUL
    except MalformedBody as exc:
        raise scim.invalid(exc.reason, "invalidSyntax") from exc
    except ValueError as exc:  # not JSON, not UTF-8, or a number past Python's digit limit
        raise scim.invalid(f"the body is not JSON: {exc}", "invalidSyntax") from exc
    return body


def _search(body: Any) -> dict[str, Any]:
    """A SearchRequest (RFC 7644 §3.4.3) as the parts the listing takes."""
    schemas = body.get("schemas") if isinstance(body, dict) else None
    if not isinstance(schemas, list) or scim.SEARCH not in schemas:
        raise scim.invalid(f"schemas must be a list including {scim.SEARCH}", "invalidSyntax")
    lists = {}
    for name in ("attributes", "excludedAttributes"):
        value = body.get(name, [])
        if isinstance(value, str):
            value = scim.attribute_list(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise scim.invalid(f"{name} must be a list of attribute names")
        lists[name] = value
    text = body.get("filter")
    if text is not None and not isinstance(text, str):
        raise scim.invalid("filter must be a string", "invalidFilter")
    start, count = _paging(_text(body.get("startIndex")), _text(body.get("count")))
    return {"filter": text, "startIndex": start, "count": count, **lists}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _filter(text: str | None, attributes: tuple[str, ...]) -> tuple[str | None, str | None]:
    return scim.parse_filter(text, attributes) if text is not None else (None, None)


def _paging(start_index: str | None, count: str | None) -> tuple[int, int]:
    start = max(_integer("startIndex", start_index, 1), 1)
    size = min(max(_integer("count", count, 100), 0), scim_discovery.MAX_RESULTS)
    return start, size


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


# --- errors ---


async def _problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScimProblem)
    return _error(exc.status, exc.scim_type, exc.detail)


def _error(status: int, scim_type: str | None, detail: str) -> JSONResponse:
    body: dict[str, Any] = {"schemas": [scim.ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return scim_response(body, status, headers)


Handler = Callable[[Request, Exception], Awaitable[Response]]


def _scoped(previous: Handler | None) -> Handler:
    """Under ``/scim/v2`` a SCIM error; elsewhere what the service answered before (``previous``)."""

    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/"):
            if isinstance(exc, StarletteHTTPException):
                return _error(exc.status_code, None, str(exc.detail))
            if isinstance(exc, RequestValidationError):
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return _error(400, "invalidValue", f"{where}: {first.get('msg', 'invalid request')}")
            return _error(500, None, "internal error")
        if previous is None:
            return PlainTextResponse("Internal Server Error", status_code=500)
        return await previous(request, exc)

    return handle
