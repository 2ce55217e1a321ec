"""`jianpei admin broadcast status <id> --follow`, run as a real process while the scheduler sends
the broadcast: it keeps showing the progress and ends by itself with the final counts; on a terminal
it redraws one line in place, in a log it writes a line per change; Ctrl-C stops the watching only."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from services.notices import broadcasts
from services.sms.gateway import OutboxGateway
from tests.conftest import FakeClock
from tests.notices.conftest import china, scheduler_of
from tests.notices.test_broadcasts import people

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 40
PASSING = 15  # texts the gateway lets through before it holds the rest: the broadcast half sent


class HeldOutbox(OutboxGateway):
    """The SMS outbox, holding every text after the first `passing` until the test lets them go, so
    the broadcast is seen half sent for as long as the test needs."""

    def __init__(self, passing: int) -> None:
        super().__init__()
        self.passing = passing
        self.released = asyncio.Event()

    async def send(self, session: AsyncSession, *, phone: str, kind: str, text: str, now: datetime) -> None:
        if self.passing > 0:
            self.passing -= 1
        else:
            await self.released.wait()
        await super().send(session, phone=phone, kind=kind, text=text, now=now)


class Follower:
    """`jianpei admin broadcast status <id> --follow` with its stdout and stderr on a pipe (as in a
    log) or on a terminal; what it wrote is gathered as it arrives."""

    def __init__(self, backend: Backend, broadcast_id: int, *, terminal: bool) -> None:
        self.args = [sys.executable, "-m", "bot.cli", "admin", "broadcast", "status", str(broadcast_id), "-f"]
        self.env = {
            **os.environ,
            "JIANPEI_DATABASE_URL": backend.engine.url.render_as_string(hide_password=False),
            "JIANPEI_DATA_DIR": str(backend.settings.data_dir),
            "JIANPEI_ENV": "test",
            "JIANPEI_SECRET_KEY": "follow-test-secret",
            "PYTHONIOENCODING": "utf-8",
        }
        self.terminal = terminal
        self.output = ""
        self.ended = False
        self._changed = asyncio.Event()
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        reading, writing = pty.openpty() if self.terminal else os.pipe()
        self.process = await asyncio.create_subprocess_exec(
            *self.args, cwd=ROOT, env=self.env, stdout=writing, stderr=writing
        )
        os.close(writing)
        asyncio.get_running_loop().add_reader(reading, self._read, reading)

    def _read(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # a terminal whose process ended
            chunk = b""
        if chunk:
            self.output += chunk.decode(errors="replace")
        else:
            asyncio.get_running_loop().remove_reader(fd)
            os.close(fd)
            self.ended = True
        self._changed.set()

    async def _until(self, check: Callable[[], bool], within: float) -> None:
        """Until `check` holds, re-checked whenever the process writes or closes its output."""
        async with asyncio.timeout(within):
            while not check():
                self._changed.clear()
                await self._changed.wait()

    async def shows(self, check: Callable[[str], bool], within: float = 120) -> None:
        await self._until(lambda: check(self.output) or self.ended, within)
        assert check(self.output), f"it stopped without that; it wrote: {self.output!r}"

    async def exit_code(self, within: float = 120) -> int:
        """Its exit status, once it has closed its output."""
        assert self.process is not None
        await self._until(lambda: self.ended, within)
        return await self.process.wait()


async def test_following_a_broadcast_shows_it_going_out_and_ends_by_itself_with_the_final_counts(
    backend: Backend, interpreter: Interpreter, clock: FakeClock
) -> None:
    clock.current = china(2026, 6, 3, 10)
    await people(backend, PEOPLE)  # accounts with phones and no chat: the broadcast goes by SMS
    outbox = backend.sms = HeldOutbox(PASSING)
    async with backend.transaction() as session:
        made = await broadcasts.create(
            session, broadcasts.BroadcastRequest(text="平台本周六维护"), operator="test", now=clock()
        )
    settings = AssistantSettings(_env_file=None, scheduler="off", sms_rate=1000)  # type: ignore[call-arg]
    scheduler = scheduler_of(create_assistant_app(backend, settings, interpreter))
    in_log = Follower(backend, made.id, terminal=False)
    on_terminal = Follower(backend, made.id, terminal=True)
    await in_log.start()
    await on_terminal.start()
    sending = asyncio.create_task(scheduler.tick())
    try:
        half = f"] {PASSING}/{PEOPLE}  "
        await in_log.shows(lambda out: half in out)
        await on_terminal.shows(lambda out: out.count(half) >= 2)  # redrawn in place while it is held

        assert on_terminal.process is not None
        on_terminal.process.send_signal(signal.SIGINT)
        assert await on_terminal.exit_code() == 130
        assert "已停止查看，群发照常进行" in on_terminal.output
        assert not sending.done() and not in_log.ended, "the broadcast and the other watcher go on"

        outbox.released.set()
        assert await sending == PEOPLE
        assert await in_log.exit_code() == 0, in_log.output
    finally:
        outbox.released.set()
        await scheduler.stop()
        for follower in (in_log, on_terminal):
            if follower.process is not None and follower.process.returncode is None:
                follower.process.kill()
                await follower.process.wait()

    lines = in_log.output.splitlines()
    assert "\r" not in in_log.output and "\x1b" not in in_log.output, "a log gets plain lines"
    progress = [line for line in lines if line.startswith("[")]
    assert any(half in line for line in progress[:-1]), "the half-sent state was shown before the end"
    assert len(progress) == len(set(progress)), "one line per change, not one per second"
    assert lines[0] == f"#{made.id} 进行中 2026-06-03 10:00 平台本周六维护", "its start in China time"
    final, bar, counts = lines[-3:]
    assert final == f"#{made.id} 已完成 2026-06-03 10:00 平台本周六维护"
    assert (bar, counts) == (f"[{'#' * 30}] {PEOPLE}/{PEOPLE}", f"已发送 {PEOPLE}")
    assert "\r[" in on_terminal.output and "\x1b[K" in on_terminal.output, "one line, redrawn in place"
