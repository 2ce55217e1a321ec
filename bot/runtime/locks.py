"""One turn at a time per sender, across the worker processes of one PostgreSQL database, without
a pool connection held for the turn.

Each process takes its turns' locks on a shared "lock line": one connection holding the session
advisory locks of many senders. A turn takes its sender's lock with `pg_try_advisory_lock` (with
those of the turns that asked at the same moment, in one round trip) and frees it once the turn's
write is committed. Only when another process has
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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger(__name__)

TRY_LOCKS = text(
    "SELECT pg_try_advisory_lock(t.key) FROM unnest(CAST(:keys AS BIGINT[])) WITH ORDINALITY AS t(key, n)"
    " ORDER BY t.n"
)
UNLOCKS = text("SELECT pg_advisory_unlock(t.key) FROM unnest(CAST(:keys AS BIGINT[])) AS t(key)")
LOCK = text("SELECT pg_advisory_lock(:key)")
UNLOCK = text("SELECT pg_advisory_unlock(:key)")


class _LockLine:
    """One connection that holds the locks of many senders at once. A connection runs one statement
    at a time, so what turns ask while a statement runs is gathered and sent in the next: one round
    trip takes (or frees) the locks of every turn that asked meanwhile, however slow the database
    answers. The connection is borrowed from the pool while it holds a lock and given back when it
    holds none, so an idle process keeps nothing."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._session = 0  # which database session the connection is: a lock lives only in its own
        self._held = 0
        self._asked: list[tuple[bool, int, asyncio.Future[bool]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def try_lock(self, key: int) -> int | None:
        """The session that took the lock, or None when another process holds it."""
        answer = self._ask(True, key)
        try:
            taken = await asyncio.shield(answer)
        except asyncio.CancelledError:  # the turn was given up: a lock it got must not linger
            answer.add_done_callback(lambda done: self._free_if_taken(done, key))
            raise
        return self._session if taken else None

    def _free_if_taken(self, answer: asyncio.Future[bool], key: int) -> None:
        if not answer.cancelled() and answer.exception() is None and answer.result():
            self._ask(False, key)

    async def unlock(self, key: int, session: int) -> None:
        if session != self._session:
            return  # that session ended while the turn ran, and took the lock with it
        try:
            await asyncio.shield(self._ask(False, key))
        except Exception as exc:  # the session is gone, so is the lock: nothing left to free
            log.warning("turn_unlock_failed", error=type(exc).__name__)

    def _ask(self, lock: bool, key: int) -> asyncio.Future[bool]:
        """Queue a lock or unlock for the next round trip (sent at once when none is under way)."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asked.append((lock, key, answer))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send())
        return answer

    async def _send(self) -> None:
        try:
            while self._asked:
                batch, self._asked = self._asked, []
                try:
                    results = await self._run([(lock, key) for lock, key, _ in batch])
                except Exception as exc:
                    for _lock, _key, answer in batch:
                        if not answer.done():
                            answer.set_exception(exc)
                    continue
                for (_lock, _key, answer), result in zip(batch, results, strict=True):
                    if not answer.done():
                        answer.set_result(result)
        finally:
            self._sending = None

    async def _run(self, batch: list[tuple[bool, int]]) -> list[bool]:
        unlocks = [key for lock, key in batch if not lock]
        locks = [key for lock, key in batch if lock]
        if self._connection is None:
            connection = await self.engine.connect()
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._connection, self._session = connection, self._session + 1
        try:
            if unlocks:
                await self._connection.execute(UNLOCKS, {"keys": unlocks})
            taken = list((await self._connection.scalars(TRY_LOCKS, {"keys": locks})).all()) if locks else []
        except Exception:
            # The database ended the session, and with it every lock taken on this line.
            connection, self._connection, self._held = self._connection, None, 0
            with contextlib.suppress(Exception):
                await connection.invalidate()
            raise
        self._held += sum(taken) - len(unlocks)
        if self._held <= 0:
            self._held = 0
            connection, self._connection = self._connection, None
            await connection.close()
        answers = iter(taken)
        return [next(answers) if lock else True for lock, _key in batch]


class DatabaseLocks:
    """Session advisory locks taken on the process's lock line, or, when another process holds the
    sender, waited for on a connection of the turn's own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._line = _LockLine(engine)

    @asynccontextmanager
    async def holding(self, key: int) -> AsyncIterator[None]:
        line = self._line
        session = await line.try_lock(key)
        if session is not None:
            try:
                yield
            finally:
                await line.unlock(key, session)
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
