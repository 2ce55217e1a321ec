"""One turn at a time per sender, across the worker processes of one PostgreSQL database, without
a pool connection held for the turn.

Each process takes its turns' locks on a few shared "lock lines", each one connection holding the
session advisory locks of many senders. A turn takes its sender's lock with `pg_try_advisory_lock`
(one short round trip) and frees it once the turn's writes are committed. Only when another process has
the sender mid-turn (its messages reached two workers at once) does the turn wait, on a pool
connection, in PostgreSQL's own queue for that lock. A process that dies takes its connections, and
so its locks, with it: the next message of that chat is served at once by another process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger(__name__)

TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
LOCK = text("SELECT pg_advisory_lock(:key)")
UNLOCK = text("SELECT pg_advisory_unlock(:key)")


class _LockLine:
    """One connection that holds the locks of many senders at once. Its statements take turns (a
    connection runs one at a time), each a single short round trip. It is borrowed from the pool
    while it holds a lock and given back when it holds none, so an idle process keeps nothing."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._held = 0
        self._busy = asyncio.Lock()

    async def _run(self, statement: TextClause, key: int) -> bool:
        if self._connection is None:
            connection = await self.engine.connect()
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._connection = connection
        try:
            return bool(await self._connection.scalar(statement, {"key": key}))
        except Exception:
            # The database ended the session, and with it every lock taken on this line.
            connection, self._connection, self._held = self._connection, None, 0
            with contextlib.suppress(Exception):
                await connection.invalidate()
            raise

    async def try_lock(self, key: int) -> bool:
        async with self._busy:
            taken = await self._run(TRY_LOCK, key)
            self._held += taken
            if not self._held:
                await self._give_back()
            return taken

    async def unlock(self, key: int) -> None:
        async with self._busy:
            if self._connection is None:
                return  # the session ended while the turn ran: the lock went with it
            try:
                await self._run(UNLOCK, key)
            except Exception as exc:
                log.warning("turn_unlock_failed", error=type(exc).__name__)
                return
            self._held -= 1
            if not self._held:
                await self._give_back()

    async def _give_back(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


class DatabaseLocks:
    """Session advisory locks taken on `lines` shared connections, or, when another process holds
    the sender, waited for on a connection of the turn's own."""

    def __init__(self, engine: AsyncEngine, lines: int = 2) -> None:
        self.engine = engine
        self._lines = [_LockLine(engine) for _ in range(max(1, lines))]

    @asynccontextmanager
    async def holding(self, key: int) -> AsyncIterator[None]:
        line = self._lines[key % len(self._lines)]
        if await line.try_lock(key):
            try:
                yield
            finally:
                await line.unlock(key)
            return
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(LOCK, {"key": key})
            try:
                yield
            finally:
                try:
                    await conn.execute(UNLOCK, {"key": key})
                except Exception:
                    await conn.invalidate()  # a pooled session must never keep the lock
                    raise
