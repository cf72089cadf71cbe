"""The bare peer of the command path: FastAPI + asyncpg, one single-row transaction per request.

``python -m bench.peer_app`` serves ``POST /rows`` on ``PEER_HTTP_PORT`` against ``PEER_PG_DSN``, served by
uvicorn exactly as a service is (``shared.serve``: same server, same options), with a pool of the services'
size (10). The body is validated by a pydantic model, as a command's is; the row is inserted in a transaction
of its own. Nothing else: no authentication, no event store, no outbox, no bus. ``bench/load.py`` starts it as
its own process beside the platform and drives it with the same load generator.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field

SCHEMA = "CREATE TABLE IF NOT EXISTS peer_rows (id uuid PRIMARY KEY, owner text NOT NULL, body jsonb NOT NULL)"


class Row(BaseModel):
    participant_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    profile: dict


def build_app(dsn: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        async with app.state.pool.acquire() as conn:
            await conn.execute(SCHEMA)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/rows", status_code=201)
    async def post_row(row: Row, request: Request) -> dict[str, str]:
        row_id = uuid.uuid4()
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO peer_rows (id, owner, body) VALUES ($1, $2, $3::jsonb)",
                row_id,
                row.participant_id,
                row.model_dump_json(),
            )
        return {"id": str(row_id)}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    uvicorn.run(
        build_app(os.environ["PEER_PG_DSN"]),
        host="127.0.0.1",
        port=int(os.environ["PEER_HTTP_PORT"]),
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
