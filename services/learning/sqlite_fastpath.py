"""The common heartbeat on SQLite: one short write transaction on a connection of its own.

One SQLite process serves every learner, and the general way costs a report a hop to a worker
thread per statement (aiosqlite), the ORM's bookkeeping, and a deferred transaction that waits on
the file lock in a thread pool (with 2,000 learners some waited past the busy timeout and were
answered 503). Here a plain progress report runs on one `sqlite3` connection kept for heartbeats,
on the event loop itself and without yielding once it holds the lock: BEGIN IMMEDIATE, one read of
the caller's token, the session and the course, the verdict of `rules.judge`, two conditional
updates, COMMIT — about a tenth of a millisecond on a local file, less than one hop to a thread.
The connection never blocks the loop on the lock (busy timeout 0): while another writer holds it,
the report waits its turn with short sleeps on the loop. A report that is anything but plain
progress (refusals, which are recorded; a course completing; an unknown session or login), or a
database that fails, writes nothing here, and None sends it the general way in `watching`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from services.learning.rules import Credit, HeartbeatPolicy, Report, SessionState, judge

_READ = """
SELECT (SELECT t.person_id FROM auth_tokens t
         WHERE t.token_hash = ? AND t.system = ? AND t.expires_at > ?) AS caller,
       s.id, s.person_id, s.free_replay, s.started_at, s.credited_in_session, s.last_seq,
       s.last_report_at, s.previous_report_at, s.ended_at, c.id AS course_row, c.duration_seconds,
       c.credited_seconds, c.completed_at
  FROM learning_watch_sessions s
  JOIN learning_enrolment_courses c ON c.id = s.enrolment_course_id
 WHERE s.public_id = ?
"""

_MOVE_SESSION = """
UPDATE learning_watch_sessions
   SET last_seq = ?, last_position = ?, last_report_at = ?, previous_report_at = last_report_at,
       credited_in_session = credited_in_session + ?
 WHERE id = ? AND last_seq = ? AND ended_at IS NULL
"""

_MOVE_COURSE = """
UPDATE learning_enrolment_courses
   SET credited_seconds = ?
 WHERE id = ? AND credited_seconds = ? AND completed_at IS NULL
"""

# Datetimes go in and come out exactly as the engine's own columns store them (UTC, no offset).
_DIALECT = sqlite.dialect()
_store: Callable[[Any], Any] = sqlite.DATETIME().bind_processor(_DIALECT) or (lambda value: value)
_load: Callable[[Any], Any] = sqlite.DATETIME().result_processor(_DIALECT, None) or (lambda value: value)

LOCK_WAIT_SECONDS = 10.0
# Reports wait for the file lock one at a time, first come first served (polling alone lets late
# ones overtake a report that has waited long); uncontended, taking the turn costs nothing.
_turns: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()
_connections: WeakKeyDictionary[AsyncEngine, sqlite3.Connection] = WeakKeyDictionary()


def _when(value: datetime) -> Any:
    return _store(value.astimezone(UTC).replace(tzinfo=None))


def _aware(value: Any) -> datetime:
    loaded: datetime = _load(value)
    return loaded.replace(tzinfo=UTC)


def _connection(engine: AsyncEngine) -> sqlite3.Connection | None:
    """The engine's heartbeat connection, opened on first use; None for an in-memory database."""
    connection = _connections.get(engine)
    if connection is not None:
        return connection
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    # isolation_level None: this module says BEGIN itself; timeout 0: never wait on the lock.
    try:
        connection = sqlite3.connect(database, timeout=0, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error:
        return None  # a file that cannot be opened: the general way answers 503 and says why
    _connections[engine] = connection

    def _close(_engine: object, made: sqlite3.Connection = connection) -> None:
        made.close()
        if _connections.get(engine) is made:
            del _connections[engine]

    event.listen(engine.sync_engine, "engine_disposed", _close)
    return connection


async def _write_lock(connection: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE, waiting on the event loop while another writer holds the lock.

    Other writers hold it across their awaits for a few milliseconds; were each report that meets
    one sent the general way, that way's own waits (on the lock and for a pooled connection) would
    hold the lock longer still and send more reports after it. False after `LOCK_WAIT_SECONDS`.
    """
    pause, waited = 0.0005, 0.0
    while True:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as failure:
            if failure.sqlite_errorcode != sqlite3.SQLITE_BUSY or waited >= LOCK_WAIT_SECONDS:
                return False
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, 0.02)
            continue
        return True


def _state(row: sqlite3.Row) -> SessionState:
    return SessionState(
        ended=row["ended_at"] is not None,
        free_replay=bool(row["free_replay"]),
        course_complete=row["completed_at"] is not None,
        duration=float(row["duration_seconds"]),
        credited=row["credited_seconds"],
        last_seq=row["last_seq"],
        last_report_at=_aware(row["last_report_at"]),
        previous_report_at=_aware(row["previous_report_at"]),
        started_at=_aware(row["started_at"]),
        credited_in_session=row["credited_in_session"],
    )


async def accept(
    engine: AsyncEngine,
    policy: HeartbeatPolicy,
    *,
    token_hash: str,
    system: str,
    public_id: str,
    report: Report,
    now: datetime,
) -> tuple[Credit, dict[str, Any]] | None:
    """Credit a plain progress report and return the verdict and the row it was judged on, or None."""
    connection = _connection(engine)
    if connection is None:
        return None
    loop = asyncio.get_running_loop()
    async with _turns.setdefault(loop, asyncio.Lock()):
        return await _locked_accept(connection, policy, token_hash, system, public_id, report, now)


async def _locked_accept(
    connection: sqlite3.Connection,
    policy: HeartbeatPolicy,
    token_hash: str,
    system: str,
    public_id: str,
    report: Report,
    now: datetime,
) -> tuple[Credit, dict[str, Any]] | None:
    if not await _write_lock(connection):
        return None
    try:
        connection.row_factory = sqlite3.Row
        row = connection.execute(_READ, (token_hash, system, _when(now), public_id)).fetchone()
        credited = _credit(connection, row, policy, report, now)
        if credited is None:
            connection.rollback()
            return None
        connection.commit()
    except sqlite3.Error:
        _abandon(connection)
        return None  # nothing was written: the general way tries again and answers for the database
    except BaseException:
        _abandon(connection)
        raise
    return credited


def _abandon(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # gone with the failure that ended it
            connection.rollback()


def _credit(
    connection: sqlite3.Connection,
    row: sqlite3.Row | None,
    policy: HeartbeatPolicy,
    report: Report,
    now: datetime,
) -> tuple[Credit, dict[str, Any]] | None:
    if row is None or row["caller"] is None or row["caller"] != row["person_id"]:
        return None
    verdict = judge(_state(row), report, now=now, policy=policy)
    if not isinstance(verdict, Credit) or verdict.completes:
        return None
    free_replay = bool(row["free_replay"])
    moved = connection.execute(
        _MOVE_SESSION,
        (
            report.seq,
            report.position if free_replay else verdict.position,
            _when(now),
            0.0 if free_replay else verdict.gained,
            row["id"],
            row["last_seq"],
        ),
    )
    if moved.rowcount != 1:
        return None
    if not free_replay:
        moved = connection.execute(
            _MOVE_COURSE, (verdict.position, row["course_row"], row["credited_seconds"])
        )
        if moved.rowcount != 1:
            return None
    return verdict, dict(zip(row.keys(), tuple(row), strict=True))
