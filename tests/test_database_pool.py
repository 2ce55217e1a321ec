"""The connections a process opens to PostgreSQL are a setting: an operator running several workers
keeps their sum below the server's max_connections, and a process never opens more."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from services.app import build_backend
from services.settings import Settings
from tests.postgres import _dsn, create_database, drop_database


async def connections_to(server_url: str, database: str) -> int:
    connection = await asyncpg.connect(_dsn(server_url))
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database)
        )
    finally:
        await connection.close()


async def test_a_process_opens_no_more_connections_than_its_setting(
    postgres_url: str, tmp_path: Path
) -> None:
    name = f"jianpei_pool_{uuid.uuid4().hex[:8]}"
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=await create_database(postgres_url, name),
        database_pool_size=2,
        database_max_overflow=1,
        _env_file=None,
    )
    backend = build_backend(settings)
    held = [await backend.engine.connect() for _ in range(3)]
    try:
        assert await connections_to(postgres_url, name) == 3
        fourth = asyncio.ensure_future(backend.engine.connect())
        with pytest.raises(TimeoutError):  # it waits for one of the three, it opens no fourth
            await asyncio.wait_for(asyncio.shield(fourth), 0.5)
        assert await connections_to(postgres_url, name) == 3
        await held.pop().close()  # back to the pool: the waiting request gets it
        held.append(await fourth)
        assert await connections_to(postgres_url, name) == 3
    finally:
        for conn in held:
            await conn.close()
        await backend.engine.dispose()
        await drop_database(postgres_url, name)
