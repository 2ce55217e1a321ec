"""The durable inbox every pushed channel shares (Telegram updates, WeChat messages), and the worker
that empties it.

A platform pushes a message and pushes it again when it is not sure we took it (Telegram without a
2xx, WeChat after 5 seconds). So a message is written here, keyed by the platform's own id, before
the platform gets its answer: a redelivery finds its row and is not handled again, and a message a
crash interrupted is taken up again once its worker's claim lapses.

A row goes new -> answered (the turn ran; its answers are kept) -> done, and `sent` counts the
answers already delivered: a resumed message neither runs its turn twice nor repeats an answer the
platform confirmed. Keys are matched by equality only (Telegram restarts its ids at random)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Answer, UserMessage, conversation_id
from bot.runtime.logid import chat_tag
from rules.help import APOLOGY

log = structlog.get_logger(__name__)

NEW = "new"
ANSWERED = "answered"
DONE = "done"
KEEP_DONE = timedelta(days=1)  # redeliveries come within hours; a restarted id must meet no old row

Handler = Callable[[UserMessage], Awaitable[list[Answer]]]
K = TypeVar("K", int, str)  # the platform's id: Telegram's update_id, WeChat's MsgId


@dataclass(frozen=True)
class Entry(Generic[K]):
    key: K
    chat: str | None  # who gets the answers (None: an update that belongs to no chat)
    body: str  # the message as the platform sent it (Telegram's JSON, WeChat's plain XML)
    state: str
    answers: list[Answer]
    sent: int


@dataclass(frozen=True)
class Table:
    """Where a channel keeps its inbox: the model and the names of its key, chat and body columns;
    the other columns (state, answers, sent, claimed_until, received_at) are named alike in all."""

    model: type[Any]
    key: str
    chat: str
    body: str


class Inbox(Generic[K]):
    def __init__(
        self,
        table: Table,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        lease: float,
    ) -> None:
        self.table = table
        self.sessions = sessions
        self.clock = clock
        self.lease = timedelta(seconds=lease)
        self._model = table.model
        self._key = getattr(table.model, table.key)

    async def add(self, key: K, chat: str | None, body: str) -> bool:
        """Store a new message, claimed by the caller; False when it is already here (a redelivery)."""
        now = self.clock()
        values = {self.table.key: key, self.table.chat: chat, self.table.body: body}
        row = self._model(**values, state=NEW, sent=0, claimed_until=now + self.lease, received_at=now)
        try:
            async with self.sessions() as session, session.begin():
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def claim(self, key: K) -> bool:
        """Take up an unfinished message whose claim lapsed; False when someone else holds it."""
        now = self.clock()
        model = self._model
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(model)
                .where(
                    self._key == key,
                    model.state != DONE,
                    or_(model.claimed_until.is_(None), model.claimed_until < now),
                )
                .values(claimed_until=now + self.lease)
            )
        return bool(getattr(result, "rowcount", 0))

    async def lapsed(self, limit: int = 100) -> list[K]:
        """Unfinished messages nobody holds any more (their worker died), oldest first."""
        model = self._model
        async with self.sessions() as session:
            rows = await session.scalars(
                select(self._key)
                .where(model.state != DONE, model.claimed_until < self.clock())
                .order_by(model.received_at)
                .limit(limit)
            )
            return list(rows)

    async def get(self, key: K) -> Entry[K]:
        async with self.sessions() as session:
            row = await session.get(self._model, key)
            assert row is not None
            answers = json.loads(row.answers) if row.answers else []
            chat, body = getattr(row, self.table.chat), getattr(row, self.table.body)
            return Entry(key, chat, body, row.state, answers, row.sent)

    async def answered(self, key: K, answers: list[Answer]) -> None:
        """The turn ran: its answers are kept, so a resumed message sends them without a second turn."""
        await self._set(key, state=ANSWERED, answers=json.dumps(answers, ensure_ascii=False))

    async def progress(self, key: K, sent: int) -> None:
        await self._set(key, sent=sent)

    async def done(self, key: K) -> None:
        await self._set(key, state=DONE, claimed_until=None)

    async def prune(self, keep: timedelta) -> None:
        """Forget finished messages older than `keep`."""
        model = self._model
        async with self.sessions() as session, session.begin():
            await session.execute(
                delete(model).where(model.state == DONE, model.received_at < self.clock() - keep)
            )

    async def _set(self, key: K, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(update(self._model).where(self._key == key).values(**values))


class InboxWorker(ABC, Generic[K]):
    """Empties an inbox: each message taken in gets its turn in a task of its own, and a sweep takes up
    what a dead worker left. A channel says how a message becomes answers and how an answer goes out."""

    kind = "message"  # the name in the log lines

    def __init__(self, name: str, inbox: Inbox[K], handle: Handler) -> None:
        self.name = name
        self.inbox: Inbox[K] = inbox
        self.handle = handle
        self._work: set[asyncio.Task[None]] = set()
        self._held: set[K] = set()  # keys this process is working on, whatever their claim says
        self._loops: list[asyncio.Task[None]] = []

    @abstractmethod
    async def answers_to(self, body: str) -> list[Answer]:
        """Run the message's turn; its answers."""

    @abstractmethod
    async def deliver_to(self, chat: str, answer: Answer) -> bool:
        """Send one answer; False when the chat takes nothing more (blocked, unfollowed)."""

    async def turn(self, chat: str, text: str, metadata: dict[str, Any]) -> list[Answer]:
        """The assistant's answers to one message of `chat`; an apology whatever broke inside."""
        return await self.turn_of(self.message(chat, text, metadata))

    def message(self, chat: str, text: str, metadata: dict[str, Any]) -> UserMessage:
        return UserMessage(text, conversation_id(self.name, chat), self.name, metadata)

    async def turn_of(self, message: UserMessage) -> list[Answer]:
        """`turn` for a message the channel keeps, to read what the turn marked on it afterwards."""
        try:
            return await self.handle(message)
        except Exception as exc:
            error_id = secrets.token_hex(4)
            log.error(
                "turn_failed", error_id=error_id, chat=chat_tag(message.sender_id), error=type(exc).__name__
            )
            return [{"text": f"{APOLOGY}（错误编号 {error_id}）"}]

    async def take(self, key: K, chat: str | None, body: str) -> bool:
        """Write the message to the inbox and start on it; False for one already taken in."""
        if not await self.inbox.add(key, chat, body):
            log.info(f"{self.kind}_redelivered", key=key)
            return False
        self._start(key)
        return True

    def _start(self, key: K) -> None:
        self._held.add(key)
        task = asyncio.create_task(self.process(key))
        self._work.add(task)
        task.add_done_callback(self._work.discard)
        task.add_done_callback(lambda _task: self._held.discard(key))

    async def resume(self) -> int:
        """Take up every message a dead worker left unfinished; how many were taken."""
        taken = 0
        for key in await self.inbox.lapsed():
            # a message whose claim lapsed while this process still works on it (a long turn, a slow
            # send) is not taken a second time
            if key not in self._held and await self.inbox.claim(key):
                self._start(key)
                taken += 1
        if taken:
            log.info(f"{self.kind}s_resumed", count=taken)
        return taken

    async def process(self, key: K) -> None:
        """One claimed message: its turn (unless it already ran), then the answers not yet sent."""
        entry = await self.inbox.get(key)
        answers = entry.answers
        if entry.state != ANSWERED:
            answers = await self.answers_to(entry.body)
            await self.inbox.answered(key, answers)
        if entry.chat is not None:
            for number in range(entry.sent, len(answers)):
                if not await self.deliver_to(entry.chat, answers[number]):
                    break
                await self.inbox.progress(key, number + 1)
        await self.inbox.done(key)

    def start_sweeping(self, every: float) -> None:
        self._loops.append(asyncio.create_task(self._sweep(every)))

    async def _sweep(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.resume()
                await self.inbox.prune(KEEP_DONE)
            except Exception as exc:  # a database hiccup must not end the sweeping
                log.error(f"{self.kind}_sweep_failed", error=type(exc).__name__)

    async def stop_work(self, grace: float) -> None:
        """End the loops, give the messages in hand `grace` seconds to finish."""
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops.clear()
        if self._work:
            await asyncio.wait(set(self._work), timeout=grace)

    async def idle(self) -> None:
        """Until every message taken in so far is handled (for tests, benchmarks and shutdown)."""
        while self._work:
            await asyncio.wait(set(self._work))
