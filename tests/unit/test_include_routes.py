"""``shared.http.include_routes``: a router's routes added to the app itself, served and documented exactly as
``app.include_router`` serves and documents them."""

from __future__ import annotations

import importlib
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, WebSocket, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from shared.edge import refuse_unread_body
from shared.http import include_routes, install_error_handlers
from shared.settings import ServiceSettings

pytestmark = pytest.mark.unit


class Body(BaseModel):
    name: str = Field(min_length=1)


class Answer(BaseModel):
    name: str
    seen: list[str]


async def router_dependency(request: Request) -> None:
    request.state.seen = [*getattr(request.state, "seen", []), "router"]


async def named(request: Request, x_caller: Annotated[str, Header()]) -> str:
    request.state.seen = [*getattr(request.state, "seen", []), "route"]
    return x_caller


def router() -> APIRouter:
    api = APIRouter(
        prefix="/things",
        tags=["things"],
        dependencies=[Depends(router_dependency)],
        responses={418: {"description": "A teapot"}},
    )

    @api.post("/{thing_id}", status_code=status.HTTP_201_CREATED, response_model=Answer, max_body_size=64)
    async def post_thing(thing_id: str, body: Body, caller: Annotated[str, Depends(named)], request: Request) -> Answer:
        """Make a thing."""
        return Answer(name=f"{thing_id}:{body.name}:{caller}", seen=request.state.seen)

    @api.get("/", summary="Every thing", deprecated=True)
    async def list_things(limit: Annotated[int, Query(ge=1, le=5)] = 2) -> dict[str, int]:
        return {"limit": limit}

    @api.delete("/{thing_id}", include_in_schema=False, status_code=204)
    async def delete_thing(thing_id: str) -> None:
        return None

    return api


def app_with(include) -> FastAPI:
    app = FastAPI(title="t", max_body_size=1024, dependencies=[Depends(refuse_unread_body)])
    install_error_handlers(app)
    include(app, router())
    return app


async def answers(app: FastAPI) -> list[tuple[int, object]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        sent = [
            await client.post("/things/a", json={"name": "b"}, headers={"x-caller": "c"}),
            await client.post("/things/a", json={"name": ""}, headers={"x-caller": "c"}),
            await client.post("/things/a", json={"name": "b"}),
            await client.post("/things/a", json={"name": "b" * 100}, headers={"x-caller": "c"}),
            await client.get("/things/", params={"limit": 3}),
            await client.get("/things/", params={"limit": 9}),
            await client.get("/things"),  # the slash redirect
            await client.delete("/things/a"),
            await client.get("/nothing"),
            await client.put("/things/a"),
        ]
    return [(r.status_code, r.text) for r in sent]


async def test_the_routes_are_served_as_an_included_router_serves_them() -> None:
    flat, included = app_with(include_routes), app_with(lambda app, api: app.include_router(api))
    assert await answers(flat) == await answers(included)
    ok = (await answers(flat))[0]
    assert ok == (201, '{"name":"a:b:c","seen":["router","route"]}')  # the router's dependency first


def test_the_openapi_document_is_the_same() -> None:
    flat, included = app_with(include_routes), app_with(lambda app, api: app.include_router(api))
    assert flat.openapi() == included.openapi()


def test_the_routes_are_the_apps_own() -> None:
    app = app_with(include_routes)
    mine = [r for r in app.router.routes if getattr(r, "path", "").startswith("/things")]
    assert [type(r) for r in mine] == [APIRoute] * 3
    assert [d.call for d in mine[0].dependant.dependencies][:2] == [refuse_unread_body, router_dependency]


def test_a_router_with_other_routes_is_included_as_it_was() -> None:
    api = APIRouter()

    @api.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.close()

    app = FastAPI()
    include_routes(app, api)
    assert not any(getattr(r, "path", "") == "/ws" for r in app.router.routes)  # kept in its included router
    assert len(app.router.routes) == 5  # the docs routes and the included router


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("profiles", "/mentees"),
        ("matching", "/requests/{request_id}/response"),
        ("relationships", "/relationships/{relationship_id}/agreement/signatures"),
        ("relationships", "/relationships/{relationship_id}/meetings"),
        ("notifications", "/participants/{participant_id}/preferences"),
    ],
)
def test_the_services_command_routes_are_their_apps_own(service: str, path: str) -> None:
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    app = bootstrap.build_app(ServiceSettings(service_name=service, pg_dsn="postgresql://unused/unused"))
    assert path in {r.path for r in app.router.routes if type(r) is APIRoute}


def test_a_router_with_start_up_handlers_is_included_as_it_was() -> None:
    started: list[str] = []
    api = APIRouter(on_startup=[lambda: started.append("router")])

    @api.get("/x")
    async def x() -> dict[str, int]:
        return {"x": 1}

    app = FastAPI()
    include_routes(app, api)
    assert not any(type(r) is APIRoute and r.path == "/x" for r in app.router.routes)
    assert (len(app.router.on_startup), started) == (1, [])
