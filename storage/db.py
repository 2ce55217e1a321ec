"""Engines and sessions. One place decides driver options so SQLite and PostgreSQL behave alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Insert, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def insert_unless_there(session: AsyncSession, model: Any, key: str, **values: Any) -> Insert:
    """INSERT … ON CONFLICT (`key`) DO NOTHING, alike on SQLite and PostgreSQL: for a row another
    process may be making at the same moment, where whoever comes second leaves it as it is."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, **kwargs: Any) -> AsyncEngine:
    """An async engine; for SQLite the file's folder is created and foreign keys are enforced. On
    PostgreSQL at most `pool_size` + `max_overflow` connections are open at once.

    Statement parameters are kept out of error messages: they hold ID numbers and phones, and
    errors end up in logs."""
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers proceed while one writer commits; busy_timeout waits for the lock instead
        # of failing at once when two requests write together.
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
