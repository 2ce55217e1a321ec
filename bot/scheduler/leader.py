"""Which process runs the scheduler. APScheduler 3 cannot share a job store between processes (each
would run every job), so exactly one ticks: on PostgreSQL whichever process holds a session advisory
lock, on SQLite whichever holds an exclusive lock on a file beside the database (a server and a
`jianpei scheduler`, or several server processes, on one host). Either lock lives as long as its
process's connection or open file; if the process dies, it is released and another process's next
attempt takes over."""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import IO

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger(__name__)

LOCK_KEY = 0x6A69616E70656901  # "jianpei" + 1: the scheduler's own advisory lock
TELEGRAM_POLL_KEY = 0x6A69616E70656902  # "jianpei" + 2: the Telegram poller's


class Leadership:
    def __init__(self, engine: AsyncEngine, key: int = LOCK_KEY, name: str = "scheduler") -> None:
        """`key` and `name` (the lock file's and the log's) tell apart the singletons elected alike:
        the scheduler, and the one Telegram poller."""
        self.engine = engine
        self.key = key
        self.name = name
        self._connection: AsyncConnection | None = None
        self._sqlite = engine.dialect.name == "sqlite"
        self._file: IO[bytes] | None = None
        self._alone = False  # an in-memory SQLite database: no other process can see it

    @property
    def held(self) -> bool:
        return self._alone or self._file is not None or self._connection is not None

    async def acquire(self) -> bool:
        """Try once, without waiting; True when this process leads (now or already)."""
        if self._sqlite:
            return self._acquire_file()
        if self._connection is not None:
            if await self._alive():
                return True
            await self.release()
        connection = await self.engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            won = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        except Exception:
            await connection.close()
            raise
        if not won:
            await connection.close()
            return False
        self._connection = connection
        log.info(f"{self.name}_elected")
        return True

    async def _alive(self) -> bool:
        assert self._connection is not None
        try:
            await self._connection.scalar(text("SELECT 1"))
        except Exception:
            log.warning(f"{self.name}_lock_lost")
            return False
        return True

    def _acquire_file(self) -> bool:
        database = self.engine.url.database
        if self._file is not None or self._alone:
            return True
        if not database or database == ":memory:":
            self._alone = True
            return True
        opened = Path(f"{database}.{self.name}-lock").open("ab")  # noqa: SIM115 (held while leading)
        try:
            fcntl.flock(opened, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            opened.close()
            return False
        self._file = opened
        log.info(f"{self.name}_elected")
        return True

    async def release(self) -> None:
        self._alone = False
        opened, self._file = self._file, None
        if opened is not None:
            opened.close()  # closing the file gives its lock back
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        with contextlib.suppress(Exception):
            await connection.close()
