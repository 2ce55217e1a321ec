"""A fake platform server (tests/telegram, tests/wechat) on an event loop of its own, in a thread, so
the synchronous helpers of bench/_server can run beside it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class FakeServer(Protocol):
    async def start(self) -> str: ...

    async def stop(self) -> None: ...


F = TypeVar("F", bound=FakeServer)


class FakeInThread(Generic[F]):
    def __init__(self, fake: F) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = fake
        self.base = self.run(self.fake.start())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def close(self) -> None:
        self.run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


@contextmanager
def in_thread(fake: F) -> Iterator[FakeInThread[F]]:
    """`fake` serving on 127.0.0.1 until the block ends."""
    running = FakeInThread(fake)
    try:
        yield running
    finally:
        running.close()
