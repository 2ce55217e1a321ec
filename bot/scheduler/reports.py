"""Delivery results, recorded many at a time: each sent notice waits until its result is recorded
(so a notice counts as in flight until then), but the backend gets one request and one transaction
for all the results of a short moment instead of one per notice, which is what a broadcast at
Telegram's 30 messages a second would otherwise cost."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from bot.scheduler.client import NoticesClient, Result, StaleClaim

log = structlog.get_logger(__name__)

GATHER_SECONDS = 0.1  # how long results gather before they are recorded together
MOST_AT_ONCE = 500  # the backend's limit of one request


class Reports:
    def __init__(self, client: NoticesClient, gather_seconds: float = GATHER_SECONDS) -> None:
        self.client = client
        self.gather_seconds = gather_seconds
        self._waiting: list[tuple[Result, asyncio.Future[None]]] = []
        self._arrived = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None

    async def record(self, result: Result) -> None:
        """Returns once the result is recorded; raises StaleClaim when the claim was not ours."""
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_gathered())
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((result, done))
        self._arrived.set()
        await done

    async def _record_gathered(self) -> None:
        while True:
            await self._arrived.wait()
            await asyncio.sleep(self.gather_seconds)
            taken, self._waiting = self._waiting[:MOST_AT_ONCE], self._waiting[MOST_AT_ONCE:]
            if not self._waiting:
                self._arrived.clear()
            try:
                stale = await self.client.results([result for result, _done in taken])
            except Exception as error:
                log.exception("notice_results_not_recorded", count=len(taken))
                for _result, done in taken:
                    if not done.done():
                        done.set_exception(error)
                continue
            for result, done in taken:
                if not done.done():
                    if result.notice.id in stale:
                        done.set_exception(StaleClaim(result.notice.id))
                    else:
                        done.set_result(None)

    async def close(self) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder
