"""Hand-offs in Telegram forum topics, for teams that live in Telegram: one topic per hand-off in the
staff supergroup (JIANPEI_TELEGRAM_STAFF_CHAT), opened with a masked card and the recent transcript.

Into the topic go the trainee's lines, a burst summarised into one message, his photos, and the end;
out of it, whatever staff write goes to the trainee as the console's replies do (prefixed, no staff
name), and `/take`, `/close <备注>`, `/reply <键>` do what the console's buttons do. Everything goes
through the desk (its rules, its audit log) and the Telegram channel's paced sender, within
Telegram's 20 messages a minute per group. A topic staff deleted is opened again with its card.

What a topic has shown is kept in `staff_handoff_topics`: a worker claims the next lines with a
conditional UPDATE before sending them, so two workers never post the same lines; a worker killed
between the claim and the send leaves those lines out of the topic (the console still has them)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import CloseForumTopic, CreateForumTopic, SendMessage, SendPhoto
from aiogram.types import BufferedInputFile, Message, User
from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.telegram.sender import Sender
from bot.handoff.accounts import Staff
from bot.handoff.desk import TRAINEE_GONE, Desk, DeskError
from bot.handoff.masking import mask_text
from bot.handoff.status import CLOSED, WITH_STAFF
from storage.models import Handoff, HandoffMessage, HandoffTopic, StaffMember

log = structlog.get_logger(__name__)

GROUP_PER_MINUTE = 20  # Telegram's limit of messages into one group
OPENING_LEASE = timedelta(minutes=2)  # a topic not opened by then is opened by another try
TEXT_LIMIT = 3900
PHOTO_CAPTION = "学员发来的照片"
CARD_LINES = 12
CHANNELS = {"telegram": "Telegram", "wechat": "微信", "rest": "网页"}
WHO = {"trainee": "学员", "bot": "助手", "staff": "客服"}
# reads a hand-off for its card; staff in the group act as themselves
READER = Staff(id=0, login="telegram-topics", name="Telegram", role="supervisor")
NO_LOGIN = "!telegram"  # no argon2 hash: a Telegram member's account cannot log into the console
HELP = (
    "直接发文字即回复学员（学员看不到您的名字）。"
    "/take 接入，/reply 键 发常用回复（{keys}），/close 备注 结束对话。"
)


class GroupPace:
    """At most `limit` messages in any `window` seconds into the staff group."""

    def __init__(self, limit: int = GROUP_PER_MINUTE, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._sent: deque[float] = deque()

    async def slot(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return
            await asyncio.sleep(self._sent[0] + self.window - now)


class TelegramTopics:
    def __init__(
        self,
        engine: AsyncEngine,
        desk: Desk,
        sender: Sender,
        *,
        chat_id: str,
        clock: Callable[[], datetime],
        pace: GroupPace | None = None,
    ) -> None:
        self.engine = engine
        self.desk = desk
        self.sender = sender
        self.chat_id = chat_id
        self.clock = clock
        self.pace = pace or GroupPace()
        self._syncing = asyncio.Lock()
        self._loop: asyncio.Task[None] | None = None

    # -- running ------------------------------------------------------------------------------------

    def start(self, every: float = 5.0) -> None:
        self._loop = asyncio.create_task(self._run(every))

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None

    async def _run(self, every: float) -> None:
        """A sync whenever this process changed a hand-off, and every `every` seconds for the
        changes of other processes."""
        async with self.desk.status.changes.listening() as changed:
            while True:
                changed.clear()
                try:
                    await self.sync()
                except Exception as error:  # the next round tries again
                    log.error("staff_topics_sync_failed", error=type(error).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), every)

    async def sync(self) -> None:
        """Open a topic for each new hand-off, show the trainees' new lines, tell the ends."""
        async with self._syncing:
            await self._open_new()
            await self._show_lines()
            await self._tell_ends()

    # -- into the group -----------------------------------------------------------------------------

    async def _open_new(self) -> None:
        async with self.engine.connect() as conn:
            new = list(
                await conn.scalars(
                    select(Handoff.id)
                    .where(
                        Handoff.status.in_(WITH_STAFF),
                        ~exists().where(HandoffTopic.handoff_id == Handoff.id),
                    )
                    .order_by(Handoff.id)
                )
            )
        for handoff_id in new:
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(
                        insert(HandoffTopic).values(
                            handoff_id=handoff_id,
                            chat_id=self.chat_id,
                            shown_until=0,
                            created_at=self.clock(),
                        )
                    )
            except IntegrityError:
                continue  # another worker opens it
            await self._open(handoff_id)
        await self._open_cut_off()

    async def _open_cut_off(self) -> None:
        """An opening that never got its topic (its worker died, or Telegram refused) is taken up
        again once OPENING_LEASE has passed, by whichever worker claims it first."""
        stale = self.clock() - OPENING_LEASE
        async with self.engine.connect() as conn:
            cut_off = list(
                await conn.scalars(
                    select(HandoffTopic.handoff_id)
                    .join(Handoff, Handoff.id == HandoffTopic.handoff_id)
                    .where(
                        HandoffTopic.thread_id.is_(None),
                        HandoffTopic.created_at < stale,
                        Handoff.status.in_(WITH_STAFF),
                    )
                )
            )
        for handoff_id in cut_off:
            async with self.engine.begin() as conn:
                claimed = await conn.execute(
                    update(HandoffTopic)
                    .where(
                        HandoffTopic.handoff_id == handoff_id,
                        HandoffTopic.thread_id.is_(None),
                        HandoffTopic.created_at < stale,
                    )
                    .values(created_at=self.clock())
                )
            if claimed.rowcount:
                await self._open(handoff_id)

    async def _open(self, handoff_id: int) -> int:
        """A new topic for the hand-off, with its card; the thread's id."""
        detail = await self.desk.detail(READER, handoff_id)
        channel = CHANNELS.get(detail["channel"], detail["channel"])
        await self.pace.slot()
        topic = await self.sender.call(
            self.chat_id, CreateForumTopic(chat_id=self.chat_id, name=f"#{handoff_id} {channel}学员")
        )
        thread_id = topic.message_thread_id
        async with self.engine.begin() as conn:
            await conn.execute(
                update(HandoffTopic).where(HandoffTopic.handoff_id == handoff_id).values(thread_id=thread_id)
            )
        await self._send(thread_id, self._card(handoff_id, channel, detail))
        return thread_id

    def _card(self, handoff_id: int, channel: str, detail: dict[str, object]) -> str:
        profile = [str(line) for line in detail["profile"]]  # type: ignore[attr-defined]
        before: list[str] = []
        for line in detail["lines"]:  # type: ignore[attr-defined]
            if line["by"] == "note":
                break
            before.append(f"{WHO.get(line['by'], line['by'])}：{_clip(str(line['text']), 200)}")
        keys = "、".join(reply.key for reply in self.desk.replies)
        parts = [
            f"转人工 #{handoff_id} · 来自{channel} · 等待接入",
            *profile,
            "—— 转人工之前的对话 ——",
            *before[-CARD_LINES:],
            "——",
            HELP.format(keys=keys),
        ]
        return _clip("\n".join(parts), TEXT_LIMIT)

    async def _show_lines(self) -> None:
        async with self.engine.connect() as conn:
            topics = (
                await conn.execute(
                    select(HandoffTopic.handoff_id, HandoffTopic.shown_until)
                    .join(Handoff, Handoff.id == HandoffTopic.handoff_id)
                    .where(
                        HandoffTopic.thread_id.is_not(None),
                        HandoffTopic.ended_at.is_(None),
                        Handoff.status.in_(WITH_STAFF),
                    )
                    .order_by(HandoffTopic.handoff_id)
                )
            ).all()
        for handoff_id, shown_until in topics:
            async with self.engine.begin() as conn:
                lines = (
                    await conn.execute(
                        select(HandoffMessage.id, HandoffMessage.text, HandoffMessage.photo)
                        .where(
                            HandoffMessage.handoff_id == handoff_id,
                            HandoffMessage.id > shown_until,
                            HandoffMessage.by == "trainee",
                        )
                        .order_by(HandoffMessage.id)
                    )
                ).all()
                if not lines:
                    continue
                claimed = await conn.execute(
                    update(HandoffTopic)
                    .where(HandoffTopic.handoff_id == handoff_id, HandoffTopic.shown_until == shown_until)
                    .values(shown_until=lines[-1].id)
                )
            if not claimed.rowcount:
                continue
            await self._post(handoff_id, _summary([(text, photo is not None) for _id, text, photo in lines]))
            for _id, _text, photo in lines:
                if photo is not None and (self.desk.status.photos / photo).is_file():
                    await self._post(handoff_id, PHOTO_CAPTION, photo=self.desk.status.photos / photo)

    async def _tell_ends(self) -> None:
        async with self.engine.connect() as conn:
            ended = (
                await conn.execute(
                    select(HandoffTopic.handoff_id, HandoffTopic.thread_id, Handoff.note)
                    .join(Handoff, Handoff.id == HandoffTopic.handoff_id)
                    .where(
                        HandoffTopic.thread_id.is_not(None),
                        HandoffTopic.ended_at.is_(None),
                        Handoff.status == CLOSED,
                    )
                )
            ).all()
        for handoff_id, thread_id, note in ended:
            async with self.engine.begin() as conn:
                claimed = await conn.execute(
                    update(HandoffTopic)
                    .where(HandoffTopic.handoff_id == handoff_id, HandoffTopic.ended_at.is_(None))
                    .values(ended_at=self.clock())
                )
            if not claimed.rowcount or thread_id is None:
                continue
            with contextlib.suppress(TelegramAPIError):  # a topic deleted meanwhile has nothing to close
                await self._send(thread_id, _ending(note))
                await self.pace.slot()
                await self.sender.call(
                    self.chat_id, CloseForumTopic(chat_id=self.chat_id, message_thread_id=thread_id)
                )

    async def _post(self, handoff_id: int, text: str, *, photo: Path | None = None) -> None:
        """Into the hand-off's topic; a topic staff deleted is opened again first."""
        async with self.engine.connect() as conn:
            thread_id = await conn.scalar(
                select(HandoffTopic.thread_id).where(HandoffTopic.handoff_id == handoff_id)
            )
        try:
            if thread_id is None:
                raise _ThreadGone
            await self._send(thread_id, text, photo=photo)
        except (TelegramBadRequest, _ThreadGone) as error:
            if isinstance(error, TelegramBadRequest) and "thread not found" not in error.message.lower():
                raise
            log.info("staff_topic_reopened", handoff_id=handoff_id)
            await self._send(await self._open(handoff_id), text, photo=photo)

    async def _send(self, thread_id: int, text: str, *, photo: Path | None = None) -> None:
        await self.pace.slot()
        if photo is None:
            await self.sender.call(
                self.chat_id, SendMessage(chat_id=self.chat_id, message_thread_id=thread_id, text=text)
            )
            return
        content = await asyncio.to_thread(photo.read_bytes)
        await self.sender.call(
            self.chat_id,
            SendPhoto(
                chat_id=self.chat_id,
                message_thread_id=thread_id,
                photo=BufferedInputFile(content, "photo.jpg"),
                caption=text,
            ),
        )

    # -- out of the group ---------------------------------------------------------------------------

    async def take(self, message: Message) -> None:
        """A message staff wrote in the group: in a hand-off's topic, a reply or a command."""
        thread_id = message.message_thread_id if message.is_topic_message else None
        if thread_id is None or message.from_user is None or message.from_user.is_bot:
            return  # the group's general chat, or the bot's own service messages
        async with self.engine.connect() as conn:
            handoff_id = await conn.scalar(
                select(HandoffTopic.handoff_id).where(
                    HandoffTopic.chat_id == self.chat_id, HandoffTopic.thread_id == thread_id
                )
            )
        if handoff_id is None:
            return
        text = (message.text or "").strip()
        if not text:
            await self._send(thread_id, "这里只能把文字转给学员。")
            return
        staff = await self._staff(message.from_user)
        word, _, rest = text.partition(" ")
        command = word.split("@", 1)[0].lower() if word.startswith("/") else None
        try:
            if command == "/take":
                await self.desk.claim(staff, handoff_id)
                await self._send(thread_id, f"{staff.name} 已接入，直接发文字即回复学员。")
            elif command == "/close":
                await self.desk.close(staff, handoff_id, rest.strip() or "在Telegram结束")
                await self.sync()
            elif command == "/reply":
                await self._canned(staff, handoff_id, thread_id, rest.strip())
            elif command is not None:
                keys = "、".join(reply.key for reply in self.desk.replies)
                await self._send(thread_id, HELP.format(keys=keys))
            else:
                await self.desk.reply(staff, handoff_id, text)
        except DeskError as refused:
            hint = "（先发 /take）" if refused.status == 409 and "接入" in refused.message else ""
            await self._send(thread_id, f"{refused.message}{hint}")

    async def _canned(self, staff: Staff, handoff_id: int, thread_id: int, key: str) -> None:
        reply = next((r for r in self.desk.replies if r.key == key), None)
        if reply is None:
            keys = "、".join(r.key for r in self.desk.replies)
            await self._send(thread_id, f"没有这个常用回复。可用的键：{keys}")
            return
        await self.desk.reply(staff, handoff_id, reply.text)

    async def _staff(self, user: User) -> Staff:
        """The desk account of a member of the staff group, made at his first action there."""
        login = f"tg:{user.id}"
        name = user.full_name[:40] or login
        async with self.engine.connect() as conn:
            found = await conn.scalar(select(StaffMember.id).where(StaffMember.login == login))
        if found is None:
            with contextlib.suppress(IntegrityError):  # made by another worker at the same moment
                async with self.engine.begin() as conn:
                    await conn.execute(
                        insert(StaffMember).values(
                            login=login,
                            name=name,
                            role="agent",
                            password_hash=NO_LOGIN,
                            failed_logins=0,
                            created_at=self.clock(),
                        )
                    )
            async with self.engine.connect() as conn:
                found = await conn.scalar(select(StaffMember.id).where(StaffMember.login == login))
        assert found is not None
        return Staff(id=found, login=login, name=name, role="agent")


class _ThreadGone(Exception):
    """The topic's thread is not known (its opening was cut off)."""


def _summary(lines: list[tuple[str, bool]]) -> str:
    """The trainee's new lines as one message: a burst costs the group one of its 20 a minute."""
    said = [("［照片］" if photo else "") + mask_text(text) for text, photo in lines]
    if len(said) == 1:
        return _clip(f"学员：{said[0]}", TEXT_LIMIT)
    return _clip(f"学员发来{len(said)}条：\n" + "\n".join(f"· {line}" for line in said), TEXT_LIMIT)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _ending(note: str | None) -> str:
    """The topic's last line: staff's closing note, and that the assistant has the chat again — but
    a trainee who blocked the bot or unfollowed is with no one, and the line says only that."""
    if note in TRAINEE_GONE.values():
        return f"对话已结束：{note}。"
    return f"对话已结束：{mask_text(note or '')}。学员回到自动助手。"
