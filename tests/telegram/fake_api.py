"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp), enough for aiogram 3: the channel talks to
it through JIANPEI_TELEGRAM_API_BASE exactly as to api.telegram.org.

It records every call (method, chat, fields, uploaded files), keeps updates for getUpdates (honouring
offset and timeout) or delivers them to a webhook with the secret header (redelivering on non-2xx),
serves files for getFile, opens forum topics (a deleted one refuses messages), deletes messages it
knows of in a chat (the bot's and the user's; any other id answers 400), can enforce Telegram's
pace (30 messages/s overall, one per second per chat) and can be told to answer the next call of a
method with 429 + retry_after, 403, 500 or no answer."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageReplyMarkup"})
TOKEN = "123456:TEST-token"
PACE_SLACK = 0.05  # seconds of network jitter tolerated when the pace is enforced


@dataclass
class Call:
    method: str
    fields: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    at: float = 0.0
    status: int = 200  # what the server answered; 0 for a call it never answered
    message_id: int | None = None  # of the message a send made (or an edit changed)

    @property
    def chat_id(self) -> str | None:
        value = self.fields.get("chat_id")
        return None if value is None else str(value)

    @property
    def markup(self) -> dict[str, Any] | None:
        raw = self.fields.get("reply_markup")
        return json.loads(raw) if raw else None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Fault:
    status: int  # 429, 403, 500, or 0: never answer
    retry_after: int = 1


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_answers: list[int] = []
        self.files: dict[str, bytes] = {}
        self.enforce_pace = False
        self.refused_for_pace = 0
        self._faults: dict[str, deque[Fault]] = {}
        self.topics: dict[tuple[str, int], str] = {}  # forum topics: (chat, thread) -> name
        self.deleted_topics: set[tuple[str, int]] = set()
        self.messages: set[tuple[str, int]] = set()  # (chat, message_id) that deleteMessage may delete
        self._hung = asyncio.Event()  # set at stop: hung calls end then
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(700_000_001)
        self._sent_at: deque[float] = deque()
        self._chat_sent_at: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self.base = ""

    # -- running ------------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        self._hung.set()
        async with self._changed:
            self._changed.notify_all()  # a long poll still waiting ends now, not at its timeout
        for task in list(self._deliveries):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- steering -----------------------------------------------------------------------------------

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` answer `status` (0: they never answer)."""
        self._faults.setdefault(method, deque()).extend(Fault(status, retry_after) for _ in range(times))

    def delete_topic(self, chat_id: str | int, thread_id: int) -> None:
        """A member deleted the forum topic: sending into it answers 400 message thread not found."""
        self.deleted_topics.add((str(chat_id), thread_id))

    def new_message(self, chat_id: str | int) -> int:
        """A user's message in his chat: its id from the same sequence as the bot's, as in one chat."""
        message_id = next(self._ids)
        self.messages.add((str(chat_id), message_id))
        return message_id

    def forget(self, chat_id: str | int, message_id: int) -> None:
        """The message can no longer be deleted (older than 48 hours, deleted already): 400."""
        self.messages.discard((str(chat_id), message_id))

    def deleted(self, chat_id: str | int) -> list[int]:
        """The ids deleteMessage was asked for in the chat, whatever the answer."""
        return [
            int(c.fields["message_id"])
            for c in self.calls
            if c.method == "deleteMessage" and c.chat_id == str(chat_id)
        ]

    def sent(self, chat_id: str | int | None = None, *, ok_only: bool = True) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method in SENDS
            and (chat_id is None or c.chat_id == str(chat_id))
            and (c.status == 200 or not ok_only)
        ]

    def texts(self, chat_id: str | int) -> list[str]:
        return [
            str(c.fields.get("text") or c.fields.get("caption") or "")
            for c in self.sent(chat_id)
            if c.method != "editMessageReplyMarkup"
        ]

    async def wait_for(self, check: Any, within: float = 60) -> None:
        """Until `check()` holds, re-checked at every call the server receives."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(check)

    # -- updates ------------------------------------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    async def push(self, update: dict[str, Any]) -> None:
        """Telegram has an update for the bot: to the webhook if one is set, else for getUpdates."""
        if self.webhook_url is None:
            self.updates.append(update)
            await self._notify()
            return
        task = asyncio.create_task(self._deliver(update))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, update: dict[str, Any], attempts: int = 3) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(attempts):
                assert self.webhook_url is not None
                response = await http.post(self.webhook_url, json=update, headers=headers)
                self.webhook_answers.append(response.status_code)
                await self._notify()
                if 200 <= response.status_code < 300:
                    return

    # -- the API ------------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        fields: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type.startswith("multipart/") or request.content_type.endswith("urlencoded"):
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[name] = (value.filename, value.file.read())
                else:
                    fields[name] = value
        for name, value in list(fields.items()):  # aiogram uploads a file under a name of its own
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                files[name] = files.pop(value[9:])
                del fields[name]
        call = Call(method, fields, files, at=time.monotonic())
        self.calls.append(call)  # recorded on arrival: a call never answered is seen too
        await self._notify()
        try:
            return await self._answer(call)
        finally:
            await self._notify()

    async def _answer(self, call: Call) -> web.StreamResponse:
        faults = self._faults.get(call.method)
        if faults:
            fault = faults.popleft()
            call.status = fault.status
            if fault.status == 0:
                await self._hung.wait()
                return _error(500, "Internal Server Error")
            if fault.status == 429:
                return _error(429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after)
            if fault.status == 403:
                return _error(403, "Forbidden: bot was blocked by the user")
            return _error(fault.status, "Internal Server Error")
        if call.method in SENDS and self.enforce_pace and not self._within_pace(call):
            call.status = 429
            self.refused_for_pace += 1
            return _error(429, "Too Many Requests: retry after 1", 1)
        thread = call.fields.get("message_thread_id")
        if thread is not None and (call.chat_id, int(thread)) in self.deleted_topics:
            call.status = 400
            return _error(400, "Bad Request: message thread not found")
        handler = getattr(self, f"_api_{call.method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found")
        try:
            if call.method == "getUpdates":
                return _ok(await handler(call))
            return _ok(handler(call))
        except Refused as refused:
            call.status = refused.status
            return _error(refused.status, refused.description)

    def _within_pace(self, call: Call) -> bool:
        now = call.at
        while self._sent_at and self._sent_at[0] <= now - (1 - PACE_SLACK):
            self._sent_at.popleft()
        chat = call.chat_id or ""
        last = self._chat_sent_at.get(chat)
        if len(self._sent_at) >= 30 or (last is not None and now - last < 1 - PACE_SLACK):
            return False
        self._sent_at.append(now)
        self._chat_sent_at[chat] = now
        return True

    def _message(self, call: Call, **content: Any) -> dict[str, Any]:
        chat_id = int(call.fields["chat_id"])
        if call.fields.get("message_id") is None:  # a new message, not an edit
            call.message_id = next(self._ids)
            self.messages.add((str(chat_id), call.message_id))
        else:
            call.message_id = int(call.fields["message_id"])
        return {
            "message_id": call.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "学员"},
            "from": {"id": 1, "is_bot": True, "first_name": "建培助手"},
            **content,
        }

    def _api_getMe(self, _call: Call) -> dict[str, Any]:
        return {"id": 1, "is_bot": True, "first_name": "建培助手", "username": "jianpei_test_bot"}

    async def _api_getUpdates(self, call: Call) -> list[dict[str, Any]]:
        offset = int(call.fields.get("offset") or 0)
        timeout = float(call.fields.get("timeout") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(lambda: bool(self.updates) or self._hung.is_set())
            except TimeoutError:
                pass
        return list(self.updates[:100])

    def _api_setWebhook(self, call: Call) -> bool:
        self.webhook_url = call.fields.get("url") or None
        self.webhook_secret = call.fields.get("secret_token")
        return True

    def _api_deleteWebhook(self, _call: Call) -> bool:
        self.webhook_url = None
        return True

    def _api_setMyCommands(self, _call: Call) -> bool:
        return True

    def _api_answerCallbackQuery(self, _call: Call) -> bool:
        return True

    def _api_editMessageReplyMarkup(self, call: Call) -> dict[str, Any]:
        return self._message(call, text="")

    def _api_deleteMessage(self, call: Call) -> bool:
        message = (str(call.chat_id), int(call.fields["message_id"]))
        if message not in self.messages:
            raise Refused(400, "Bad Request: message to delete not found")
        self.messages.discard(message)
        return True

    def _api_sendMessage(self, call: Call) -> dict[str, Any]:
        return self._message(call, text=call.fields.get("text", ""))

    def _api_sendPhoto(self, call: Call) -> dict[str, Any]:
        size = len(call.files["photo"][1]) if "photo" in call.files else 0
        photo = {"file_id": "sent-photo", "file_unique_id": "sp", "width": 295, "height": 413}
        return self._message(call, photo=[{**photo, "file_size": size}])

    def _api_sendDocument(self, call: Call) -> dict[str, Any]:
        name, content = call.files.get("document", ("document", b""))
        document = {"file_id": "sent-doc", "file_unique_id": "sd", "file_name": name}
        return self._message(call, document={**document, "file_size": len(content)})

    def _api_createForumTopic(self, call: Call) -> dict[str, Any]:
        thread_id = next(self._ids)
        self.topics[(str(call.chat_id), thread_id)] = call.fields["name"]
        return {"message_thread_id": thread_id, "name": call.fields["name"], "icon_color": 7322096}

    def _api_closeForumTopic(self, _call: Call) -> bool:
        return True

    def _api_getFile(self, call: Call) -> dict[str, Any]:
        file_id = call.fields["file_id"]
        content = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(content),
            "file_path": f"photos/{file_id}.jpg",
        }

    async def _file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="image/jpeg")


class Refused(Exception):
    """A call Telegram answers with an error of its own (not one a test asked for with `fail`)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


class Updates:
    """Updates as Telegram shapes them, from a user in his private chat with the bot."""

    def __init__(self, fake: FakeTelegram, chat_id: int = 5001) -> None:
        self.fake = fake
        self.chat_id = chat_id

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "update_id": self.fake.next_update_id(),
            "message": {
                "message_id": self.fake.new_message(self.chat_id),
                "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "private", "first_name": "学员"},
                "from": {"id": self.chat_id, "is_bot": False, "first_name": "学员"},
                **content,
            },
        }

    def text(self, text: str) -> dict[str, Any]:
        return self._message(text=text)

    def blocked(self) -> dict[str, Any]:
        """The user blocked the bot: Telegram tells the bot it is now `kicked` from his chat."""
        bot = {"id": 1, "is_bot": True, "first_name": "建培助手", "username": "jianpei_test_bot"}
        return {
            "update_id": self.fake.next_update_id(),
            "my_chat_member": {
                "chat": {"id": self.chat_id, "type": "private", "first_name": "学员"},
                "from": {"id": self.chat_id, "is_bot": False, "first_name": "学员"},
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
            },
        }

    def press(self, data: str, message_id: int = 1) -> dict[str, Any]:
        user = {"id": self.chat_id, "is_bot": False, "first_name": "学员"}
        return {
            "update_id": self.fake.next_update_id(),
            "callback_query": {
                "id": f"cb-{self.fake.next_update_id()}",
                "from": user,
                "chat_instance": f"ci-{self.chat_id}",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": self.chat_id, "type": "private", "first_name": "学员"},
                    "text": "…",
                },
            },
        }

    def photo(self, content: bytes, *, reported_size: int | None = None) -> dict[str, Any]:
        """A compressed photo: Telegram offers several sizes, the largest last."""
        file_id = f"photo-{self.fake.next_update_id()}"
        self.fake.files[file_id] = content
        self.fake.files[f"{file_id}-small"] = content[: len(content) // 4]
        sizes = [
            {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 128},
            {
                "file_id": file_id,
                "file_unique_id": "l",
                "width": 900,
                "height": 1260,
                "file_size": reported_size or len(content),
            },
        ]
        return self._message(photo=sizes)

    def document(
        self, content: bytes, name: str, mime: str, *, reported_size: int | None = None
    ) -> dict[str, Any]:
        file_id = f"doc-{self.fake.next_update_id()}"
        self.fake.files[file_id] = content
        document = {
            "file_id": file_id,
            "file_unique_id": "d",
            "file_name": name,
            "mime_type": mime,
            "file_size": reported_size or len(content),
        }
        return self._message(document=document)

    def sticker(self) -> dict[str, Any]:
        sticker = {
            "file_id": "st",
            "file_unique_id": "st",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._message(sticker=sticker)

    def voice(self) -> dict[str, Any]:
        return self._message(voice={"file_id": "v", "file_unique_id": "v", "duration": 3})

    def location(self) -> dict[str, Any]:
        return self._message(location={"latitude": 43.8, "longitude": 126.5})
