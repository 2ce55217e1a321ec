"""Which process runs the scheduler. APScheduler 3 cannot share a job store between processes (each
would run every job), so exactly one ticks: on SQLite the one server, on PostgreSQL whichever process
holds a session advisory lock. The lock lives as long as that process's connection; if it dies, the
database releases it and another worker's next attempt takes over."""

from __future__ import annotations

import contextlib

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger(__name__)

LOCK_KEY = 0x6A69616E70656901  # "jianpei" + 1: the scheduler's own advisory lock


class Leadership:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def held(self) -> bool:
        return self._sqlite or self._connection is not None

    async def acquire(self) -> bool:
        """Try once, without waiting; True when this process leads (now or already)."""
        if self._sqlite:
            return True
        if self._connection is not None:
            if await self._alive():
                return True
            await self.release()
        connection = await self.engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            won = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
        except Exception:
            await connection.close()
            raise
        if not won:
            await connection.close()
            return False
        self._connection = connection
        log.info("scheduler_elected")
        return True

    async def _alive(self) -> bool:
        assert self._connection is not None
        try:
            await self._connection.scalar(text("SELECT 1"))
        except Exception:
            log.warning("scheduler_lock_lost")
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        with contextlib.suppress(Exception):
            await connection.close()
