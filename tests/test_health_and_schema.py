"""The schema migrates up and down on both databases, and /health reports it."""

from __future__ import annotations

import httpx
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from services.context import Backend
from storage import migrate
from storage.models import Base


async def test_health_reports_the_schema_revision(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["schema_version"] == migrate.head_revisions()
    assert body["schema_up_to_date"] is True


async def test_migrations_create_every_model_table(backend: Backend) -> None:
    async with backend.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/registry/accounts" in spec["paths"]


async def test_errors_have_one_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "没有找到要访问的内容"}}


async def test_downgrade_to_base_and_back(migrated_engine: AsyncEngine) -> None:
    await migrate.downgrade(migrated_engine, "base")
    assert await migrate.current_revision(migrated_engine) is None
    await migrate.upgrade(migrated_engine)
    assert await migrate.current_revision(migrated_engine) == migrate.head_revisions()
