"""The common heartbeat on PostgreSQL: one read and one atomic write, straight on asyncpg.

(SQLite has its own, `sqlite_fastpath`; `accept` picks the one of the engine.)

Most reports are plain progress that the rules accept. On PostgreSQL they skip the ORM and the
engine's pool (whose checkout ping and bookkeeping cost more than the work itself): a small asyncpg
pool per engine, closed when the engine is disposed, runs one prepared query for the caller's token,
the session and the course, and one statement that moves both rows, whose guards (the last sequence
number, the credited seconds) make a concurrent copy of the report a no-op. Everything else
(refusals, which are recorded; a course completing; an unknown session or login) returns None and
goes the general way in `watching`, which decides again. Both ways judge with `rules.judge`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from services.context import Backend
from services.learning import sqlite_fastpath
from services.learning.rules import Credit, HeartbeatPolicy, Report, SessionState, judge

_READ = """
SELECT (SELECT t.person_id FROM auth_tokens t
         WHERE t.token_hash = $1 AND t.system = $2 AND t.expires_at > $3) AS caller,
       s.id, s.person_id, s.free_replay, s.started_at, s.credited_in_session, s.last_seq,
       s.last_report_at, s.previous_report_at, s.ended_at, c.id AS course_row, c.duration_seconds,
       c.credited_seconds, c.completed_at
  FROM learning_watch_sessions s
  JOIN learning_enrolment_courses c ON c.id = s.enrolment_course_id
 WHERE s.public_id = $4
"""

_CREDIT = """
WITH moved AS (
    UPDATE learning_watch_sessions
       SET last_seq = $1, last_position = $2, last_report_at = $3, previous_report_at = last_report_at,
           credited_in_session = credited_in_session + $4
     WHERE id = $5 AND last_seq = $6 AND ended_at IS NULL
 RETURNING id)
UPDATE learning_enrolment_courses
   SET credited_seconds = $2
 WHERE id = $7 AND credited_seconds = $8 AND completed_at IS NULL AND EXISTS (SELECT 1 FROM moved)
"""

_REPLAY = """
UPDATE learning_watch_sessions
   SET last_seq = $1, last_position = $2, last_report_at = $3, previous_report_at = last_report_at
 WHERE id = $4 AND last_seq = $5 AND ended_at IS NULL
"""


POOL_SIZE = 20
_pools: WeakKeyDictionary[AsyncEngine, asyncpg.Pool] = WeakKeyDictionary()
_locks: WeakKeyDictionary[AsyncEngine, asyncio.Lock] = WeakKeyDictionary()


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Heartbeats change no session state and hold no transaction: skip asyncpg's reset round trip."""


async def _pool(engine: AsyncEngine) -> asyncpg.Pool:
    """The engine's asyncpg pool for heartbeats, made on first use in this process."""
    pool = _pools.get(engine)
    if pool is not None:
        return pool
    async with _locks.setdefault(engine, asyncio.Lock()):
        pool = _pools.get(engine)
        if pool is None:
            dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            pool = await asyncpg.create_pool(dsn, min_size=1, max_size=POOL_SIZE, reset=_keep_session)
            _pools[engine] = pool

            def _close(_engine: object, made: asyncpg.Pool = pool) -> None:
                made.terminate()
                if _pools.get(engine) is made:
                    del _pools[engine]

            event.listen(engine.sync_engine, "engine_disposed", _close)
    return pool


def _state(row: Mapping[str, Any]) -> SessionState:
    return SessionState(
        ended=row["ended_at"] is not None,
        free_replay=row["free_replay"],
        course_complete=row["completed_at"] is not None,
        duration=float(row["duration_seconds"]),
        credited=row["credited_seconds"],
        last_seq=row["last_seq"],
        last_report_at=row["last_report_at"],
        previous_report_at=row["previous_report_at"],
        started_at=row["started_at"],
        credited_in_session=row["credited_in_session"],
    )


async def accept(
    backend: Backend, *, token_hash: str, system: str, public_id: str, report: Report, now: datetime
) -> tuple[Credit, Mapping[str, Any]] | None:
    """Credit a plain progress report and return the verdict and the row it was judged on, or None."""
    policy = HeartbeatPolicy.from_settings(backend.settings)
    if backend.engine.dialect.name == "sqlite":
        return await sqlite_fastpath.accept(
            backend.engine,
            policy,
            token_hash=token_hash,
            system=system,
            public_id=public_id,
            report=report,
            now=now,
        )
    if backend.engine.dialect.name != "postgresql":
        return None
    pool = await _pool(backend.engine)
    async with pool.acquire() as driver:
        row = await driver.fetchrow(_READ, token_hash, system, now, public_id)
        if row is None or row["caller"] is None or row["caller"] != row["person_id"]:
            return None
        verdict = judge(_state(row), report, now=now, policy=policy)
        if not isinstance(verdict, Credit) or verdict.completes:
            return None
        if row["free_replay"]:
            status = await driver.execute(
                _REPLAY, report.seq, report.position, now, row["id"], row["last_seq"]
            )
        else:
            status = await driver.execute(
                _CREDIT,
                report.seq,
                verdict.position,
                now,
                verdict.gained,
                row["id"],
                row["last_seq"],
                row["course_row"],
                row["credited_seconds"],
            )
        if status != "UPDATE 1":
            return None
        return verdict, row
