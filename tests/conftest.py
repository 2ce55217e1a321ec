"""Test harness: real databases (SQLite and PostgreSQL), real HTTP through the ASGI app, a movable clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.app import create_app
from services.context import Backend
from services.settings import Settings
from services.sms.gateway import OutboxGateway
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Base
from tests.postgres import create_database, drop_database, postgres_server

ADMIN_TOKEN = "test-admin-token"


class FakeClock:
    """A clock the test moves by hand, so expiry and lock-out rules are tested without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """One migrated database per backend for the whole run; tests empty it after themselves."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        yield engine
        await engine.dispose()
        return
    server_url = request.getfixturevalue("postgres_url")
    name = f"jianpei_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    engine = create_engine(url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()
    await drop_database(server_url, name)


async def empty_all_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "var",
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret",
        _env_file=None,
    )


@pytest.fixture
async def backend(
    migrated_engine: AsyncEngine, settings: Settings, clock: FakeClock
) -> AsyncIterator[Backend]:
    yield Backend(
        settings=settings,
        engine=migrated_engine,
        sessions=session_factory(migrated_engine),
        clock=clock,
        sms=OutboxGateway(),
    )
    await empty_all_tables(migrated_engine)


_apps: dict[tuple[object, ...], FastAPI] = {}


def backend_app(backend: Backend) -> FastAPI:
    """The backend app for this test's backend. FastAPI prepares an app's routes on its first request
    (about a quarter of a second of CPU, most of a short test), so one app per database and body limits
    serves every test of the worker; each test hands it its own backend (settings, clock, SMS outbox),
    which the routes read from `app.state.backend` on every request."""
    settings = backend.settings
    key = (backend.engine, settings.max_json_bytes, settings.max_csv_bytes)
    if key not in _apps:
        _apps[key] = create_app(backend)
    app = _apps[key]
    app.state.backend = backend
    return app


@pytest.fixture
async def client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    app = backend_app(backend)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jianpei.test") as http:
        yield http


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
