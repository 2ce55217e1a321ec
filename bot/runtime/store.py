"""Trackers kept in the database, and one turn at a time per sender.

Within a process an asyncio lock per sender queues that sender's turns in arrival order, and leaves
other senders alone. On PostgreSQL a session advisory lock on the sender does the same across
processes (bot/runtime/locks.py), held on a shared lock connection: a turn holds no connection
while NLU and actions run, only for its read at the start and its one write at the end. SQLite
deployments are single-process, so the in-process lock is enough there.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.runtime.domain import Domain
from bot.runtime.locks import DatabaseLocks
from bot.runtime.redaction import redacted
from bot.runtime.tracker import DialogueTracker
from storage.models import Conversation, ConversationEvent

# Shared by every store of the process, so two assistants on one database never interleave a turn.
_LOCKS: dict[tuple[str, str], asyncio.Lock] = {}
_WAITERS: dict[tuple[str, str], int] = {}


def lock_key(sender_id: str) -> int:
    """The sender's advisory lock key: 64 bits of a hash, the same in every process."""
    return int.from_bytes(hashlib.sha256(sender_id.encode()).digest()[:8], "big", signed=True)


def _storable(event: dict[str, Any]) -> dict[str, Any]:
    """Chat history is kept for good, so photo bytes never go in: a user's file keeps only its name
    and size, and a photo shown inline (a data URL) is left out of the bot event."""
    data = event.get("data")
    if isinstance(data, dict) and str(data.get("image") or "").startswith("data:"):
        event = {**event, "data": {k: v for k, v in data.items() if k != "image"}}
    attachment = (event.get("metadata") or {}).get("attachment")
    if event.get("event") != "user" or not isinstance(attachment, dict):
        return event
    content = attachment.get("content_base64")
    kept = {
        "filename": attachment.get("filename"),
        "size_base64": len(content) if isinstance(content, str) else 0,
    }
    return {**event, "metadata": {**event["metadata"], "attachment": kept}}


class TrackerStore:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        domain: Domain,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.domain = domain
        self._database = engine.url.render_as_string(hide_password=True)
        postgres = engine.dialect.name == "postgresql"
        self._database_locks = DatabaseLocks(engine) if postgres else None
        self._sqlite_writer = None if postgres else asyncio.Lock()

    @asynccontextmanager
    async def locked(self, sender_id: str) -> AsyncIterator[None]:
        """Exclusive use of one sender's conversation for one turn, in this process and (on
        PostgreSQL) in every other; the turn's work opens its own short transactions."""
        key = (self._database, sender_id)
        lock = _LOCKS.setdefault(key, asyncio.Lock())
        _WAITERS[key] = _WAITERS.get(key, 0) + 1
        try:
            async with lock:
                if self._database_locks is None:
                    yield
                    return
                async with self._database_locks.holding(lock_key(sender_id)):
                    yield
        finally:
            _WAITERS[key] -= 1
            if not _WAITERS[key]:
                del _WAITERS[key]
                _LOCKS.pop(key, None)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """The turn's read at its start: statements on a connection of its own, no transaction to
        open and close (the sender's lock keeps its conversation still meanwhile)."""
        async with self.engine.connect() as conn:
            if self._database_locks is not None:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """The turn's one write at its end. SQLite lets one writer in at a time and makes the others
        retry after growing sleeps, so a turn that lost the race could be overtaken again and again;
        the turns of this process therefore write one after another, in the order they got here."""
        if self._sqlite_writer is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._sqlite_writer, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _connection(self, given: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        """The turn's locked connection, else a transaction of our own."""
        if given is not None:
            yield given
            return
        async with self.engine.begin() as conn:
            yield conn

    async def load(self, sender_id: str, conn: AsyncConnection | None = None) -> DialogueTracker:
        """The tracker of the current session (older sessions stay stored but are not replayed), in
        one statement."""
        async with self._connection(conn) as conn:
            rows = (
                await conn.execute(
                    select(Conversation.session_no, ConversationEvent.data)
                    .select_from(Conversation)
                    .outerjoin(
                        ConversationEvent,
                        and_(
                            ConversationEvent.sender_id == Conversation.sender_id,
                            ConversationEvent.session_no == Conversation.session_no,
                        ),
                    )
                    .where(Conversation.sender_id == sender_id)
                    .order_by(ConversationEvent.id)
                )
            ).all()
        events = [json.loads(row.data) for row in rows if row.data is not None]
        tracker = DialogueTracker(sender_id=sender_id, domain=self.domain, events=events)
        tracker.session_no = rows[0].session_no if rows else 0
        return tracker

    async def save(
        self, tracker: DialogueTracker, *, channel: str, now: datetime, conn: AsyncConnection | None = None
    ) -> None:
        """Append this turn's events, credentials masked, in one statement; a turn that started a
        session numbers it anew."""
        if not tracker.new_events:
            return
        if any(event.get("event") == "session_started" for event in tracker.new_events):
            tracker.session_no += 1
        rows = [
            {
                "sender_id": tracker.sender_id,
                "session_no": tracker.session_no,
                "type_name": str(event.get("event")),
                "data": json.dumps(event, ensure_ascii=False),
                "created_at": now,
            }
            for event in redacted([_storable(event) for event in tracker.new_events])
        ]
        async with self._connection(conn) as conn:
            changed = await conn.execute(
                update(Conversation)
                .where(Conversation.sender_id == tracker.sender_id)
                .values(last_event_at=now, session_no=tracker.session_no)
            )
            if not changed.rowcount:
                await conn.execute(
                    insert(Conversation).values(
                        sender_id=tracker.sender_id,
                        channel=channel,
                        session_no=tracker.session_no,
                        last_event_at=now,
                        created_at=now,
                    )
                )
            await conn.execute(insert(ConversationEvent), rows)
        tracker.new_events = []

    async def transcript(
        self, sender_id: str, limit: int
    ) -> list[tuple[datetime, str, dict[str, Any]]] | None:
        """The chat's newest `limit` exchanges, oldest first, as (when, "user" | "bot", message) —
        what a reloaded chat page shows. None for a chat never seen. Button payloads the user sent
        are left out: the page shows the button's title when it is pressed, not its payload."""
        async with self.sessions() as session:
            if await session.get(Conversation, sender_id) is None:
                return None
            rows = await session.execute(
                select(ConversationEvent.data, ConversationEvent.created_at)
                .where(
                    ConversationEvent.sender_id == sender_id,
                    ConversationEvent.type_name.in_(("user", "bot")),
                )
                .order_by(ConversationEvent.id.desc())
                .limit(limit)
            )
            found = rows.all()
        lines: list[tuple[datetime, str, dict[str, Any]]] = []
        for row in reversed(found):
            event = json.loads(row.data)
            if event.get("event") == "bot":
                lines.append((row.created_at, "bot", {"text": event.get("text"), **event.get("data", {})}))
                continue
            text = str(event.get("text") or "")
            attachment = (event.get("metadata") or {}).get("attachment")
            if isinstance(attachment, dict):
                name = attachment.get("filename") or ""
                lines.append((row.created_at, "user", {"text": f"［照片］{name}"}))
            elif text and not text.startswith("/"):
                lines.append((row.created_at, "user", {"text": text}))
        return lines
