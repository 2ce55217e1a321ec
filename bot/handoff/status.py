"""A conversation's status and its hand-offs, written only here.

From the trainee's turns (inside the sender's lock, on the turn's own connection on PostgreSQL):
Rasa's `pause` (an action handed the chat to staff: it joins the queue) and `resume` (返回助手: the
chat is the assistant's again); while with staff, every message is kept for staff instead of going
to the NLU. From the console: claim (one conditional UPDATE, so of two staff claiming at once one
wins), assign, close with a note. Closing takes the trainee's turn lock, so a message he sends
meanwhile reaches staff before the close or the assistant after it, never neither.

Statuses map onto Chatwoot's, so a Chatwoot connector could follow: bot = pending, waiting and
assigned = open, closed = resolved (the assistant has the chat again)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.handoff import texts
from bot.handoff.hours import WorkingHours
from bot.handoff.offer import OFFER, offer_due
from bot.runtime.assistant import UserMessage
from storage.models import Conversation, ConversationEvent, Handoff, HandoffMessage

BOT = "bot"
WAITING = "waiting"
ASSIGNED = "assigned"
CLOSED = "closed"
WITH_STAFF = (WAITING, ASSIGNED)
CHATWOOT = {BOT: "pending", WAITING: "open", ASSIGNED: "open", CLOSED: "resolved"}
PAUSE = "pause"
RESUME = "resume"
TRAINEE_LEFT = "学员返回了自动助手"
SenderLock = Callable[[str], AbstractAsyncContextManager[AsyncConnection | None]]
Farewell = Callable[[str], Awaitable[None]]


class Changes:
    """Wakes this process's console streams the moment something changed; another process's change
    is seen by the streams' next look at the database."""

    def __init__(self) -> None:
        self._listeners: set[asyncio.Event] = set()

    def notify(self) -> None:
        for listener in self._listeners:
            listener.set()

    @asynccontextmanager
    async def listening(self) -> AsyncIterator[asyncio.Event]:
        listener = asyncio.Event()
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)


class ConversationStatus:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        locked: SenderLock,
        hours: WorkingHours,
        photos: Path,
        changes: Changes | None = None,
    ) -> None:
        """`locked` is the runtime's per-sender turn lock (yielding the locked connection on
        PostgreSQL)."""
        self.engine = engine
        self.locked = locked
        self.hours = hours
        self.photos = photos
        self.changes = changes or Changes()

    @asynccontextmanager
    async def _connection(self, given: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        if given is not None:
            yield given
            return
        async with self.engine.begin() as conn:
            yield conn

    def _notify_after(self, conn: AsyncConnection) -> None:
        """Wake the listeners once the change is visible: now when it committed on a connection of
        its own, else when the turn's transaction commits (listeners reading sooner would miss it)."""
        if conn.closed or not conn.in_transaction() or conn.sync_connection is None:
            self.changes.notify()
            return
        event.listen(conn.sync_connection, "commit", lambda _conn: self.changes.notify(), once=True)

    async def with_staff(self, sender_id: str, conn: AsyncConnection | None) -> bool:
        async with self._connection(conn) as conn:
            status = await conn.scalar(select(Conversation.status).where(Conversation.sender_id == sender_id))
        return status in WITH_STAFF

    async def relay(
        self, message: UserMessage, *, now: datetime, conn: AsyncConnection | None
    ) -> list[dict[str, Any]]:
        """Keep the trainee's message (text or photo) for staff; tell a trainee still in the queue his
        place in it, say nothing while a person is answering."""
        async with self._connection(conn) as conn:
            handoff = (
                await conn.execute(
                    select(Handoff.id, Handoff.status).where(
                        Handoff.sender_id == message.sender_id, Handoff.status.in_(WITH_STAFF)
                    )
                )
            ).first()
            if handoff is None:  # the turn saw the chat with staff, so its hand-off is open
                return []
            text = (message.text or "").strip()
            photo = await self._keep_photo(message.metadata.get("attachment"))
            if photo is not None or (text and not text.startswith("/")):
                await conn.execute(
                    insert(HandoffMessage).values(
                        handoff_id=handoff.id, by="trainee", text=text, photo=photo, created_at=now
                    )
                )
            answers = [] if handoff.status == ASSIGNED else [await self._queued(conn, handoff.id, now)]
        self._notify_after(conn)
        return answers

    async def _keep_photo(self, attachment: Any) -> str | None:
        if not isinstance(attachment, dict):
            return None
        try:
            content = base64.b64decode(str(attachment.get("content_base64") or ""), validate=True)
        except (binascii.Error, ValueError):
            return None
        if not content:
            return None
        name = f"{secrets.token_urlsafe(18)}.bin"
        await asyncio.to_thread(self._write, name, content)
        return name

    def _write(self, name: str, content: bytes) -> None:
        self.photos.mkdir(parents=True, exist_ok=True)
        (self.photos / name).write_bytes(content)

    async def _queued(self, conn: AsyncConnection, handoff_id: int, now: datetime) -> dict[str, Any]:
        if not self.hours.open_at(now):
            return texts.after_hours(self.hours.back_at(now))
        place = await conn.scalar(
            select(func.count()).where(Handoff.status == WAITING, Handoff.id <= handoff_id)
        )
        return texts.queued(int(place or 1))

    async def record(
        self, sender_id: str, events: list[dict[str, Any]], *, now: datetime, conn: AsyncConnection | None
    ) -> list[dict[str, Any]]:
        """Apply the turn's pause and resume events, the last one winning, and say what follows (the
        place in the queue, or when staff are back); with neither, offer a person to an angry
        trainee. The conversation row exists: the turn's events were saved first."""
        kinds = [e.get("event") for e in events if e.get("event") in (PAUSE, RESUME)]
        if not kinds:
            if offer_due(events) and not await self.with_staff(sender_id, conn):
                return [OFFER]
            return []
        async with self._connection(conn) as conn:
            if kinds[-1] == RESUME:
                await conn.execute(
                    update(Conversation).where(Conversation.sender_id == sender_id).values(status=BOT)
                )
                await conn.execute(
                    update(Handoff)
                    .where(Handoff.sender_id == sender_id, Handoff.status.in_(WITH_STAFF))
                    .values(status=CLOSED, closed_at=now, note=TRAINEE_LEFT)
                )
                answers = []
            else:
                queued = await conn.execute(
                    update(Conversation)
                    .where(Conversation.sender_id == sender_id, Conversation.status.not_in(WITH_STAFF))
                    .values(status=WAITING, handoff_requested_at=now)
                )
                if not queued.rowcount:  # asked again while already with staff
                    return []
                context_until = await conn.scalar(
                    select(func.max(ConversationEvent.id)).where(ConversationEvent.sender_id == sender_id)
                )
                handoff_id = await conn.scalar(
                    insert(Handoff)
                    .values(
                        sender_id=sender_id, status=WAITING, requested_at=now, context_until=context_until
                    )
                    .returning(Handoff.id)
                )
                assert handoff_id is not None
                answers = [await self._queued(conn, handoff_id, now)]
        self._notify_after(conn)
        return answers

    async def claim(self, handoff_id: int, staff_id: int, *, now: datetime) -> bool:
        """Take a waiting conversation; False when a colleague was first (or it is no longer waiting)."""
        moved = await self._move(handoff_id, (WAITING,), ASSIGNED, assigned_to=staff_id, assigned_at=now)
        return moved is not None

    async def assign(self, handoff_id: int, staff_id: int, *, now: datetime) -> bool:
        """Give an open conversation to `staff_id`; False when it is closed already."""
        moved = await self._move(handoff_id, WITH_STAFF, ASSIGNED, assigned_to=staff_id, assigned_at=now)
        return moved is not None

    async def close(
        self, handoff_id: int, note: str, *, now: datetime, farewell: Farewell | None = None
    ) -> str | None:
        """Close an open hand-off with its note; the chat is the assistant's again. Inside the
        trainee's turn lock, so no turn of his straddles the close; `farewell` tells him, still inside
        it, so that word comes before the assistant's next answer. Returns the chat, or None when it
        was closed already."""
        async with self.engine.connect() as conn:
            sender_id = await conn.scalar(select(Handoff.sender_id).where(Handoff.id == handoff_id))
        if sender_id is None:
            return None
        async with self.locked(sender_id) as conn:
            moved = await self._move(handoff_id, WITH_STAFF, CLOSED, conn=conn, closed_at=now, note=note)
            if moved is not None and farewell is not None:
                await farewell(moved)
        return moved

    async def _move(
        self,
        handoff_id: int,
        only_from: Iterable[str],
        status: str,
        *,
        conn: AsyncConnection | None = None,
        **values: object,
    ) -> str | None:
        """One conditional UPDATE, so of two staff acting at once exactly one wins; the
        conversation follows in the same transaction. The chat moved, or None."""
        async with self._connection(conn) as conn:
            sender_id = await conn.scalar(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status.in_(tuple(only_from)))
                .values(status=status, **values)
                .returning(Handoff.sender_id)
            )
            if sender_id is None:
                return None
            await self._conversation(conn, sender_id, status)
        self._notify_after(conn)
        return sender_id

    async def _conversation(self, conn: AsyncConnection, sender_id: str, status: str) -> None:
        await conn.execute(
            update(Conversation)
            .where(Conversation.sender_id == sender_id, Conversation.status.in_(WITH_STAFF))
            .values(status=status)
        )
