"""The ticking: APScheduler 3 (AsyncIOScheduler, in memory) runs one job. In the elected process
it asks for due notices and delivers them batch by batch; elsewhere it only tries to be elected.
Nothing durable lives in APScheduler: the notices table is the state, so a restart loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler.client import NoticesClient
from bot.scheduler.delivery import Delivery
from bot.scheduler.leader import Leadership

log = structlog.get_logger(__name__)


class NoticeScheduler:
    def __init__(
        self,
        client: NoticesClient,
        delivery: Delivery,
        leadership: Leadership,
        *,
        every_seconds: float = 15.0,
        batch: int = 25,
        lease_seconds: float = 120.0,
        cancel_check_seconds: float = 0.25,
    ) -> None:
        self.client = client
        self.delivery = delivery
        self.leadership = leadership
        self.every_seconds = every_seconds
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.cancel_check_seconds = cancel_check_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._ticking: asyncio.Task[None] | None = None

    async def tick(self) -> int:
        """One round, if this process leads: the reminder rules, then notices claimed and delivered
        until nothing may go now. At most `batch` notices are held at a time (so a crash leaves no
        more than those unknown); a freed half batch is claimed again at once, so the platforms'
        pace, not the claiming, sets the speed. Returns how many notices
        were delivered (whatever the outcome)."""
        if not await self.leadership.acquire():
            return 0
        await self.client.due()
        watcher = asyncio.create_task(self._watch_cancellations())
        try:
            return await self._deliver_due()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _deliver_due(self) -> int:
        done = 0
        running: set[asyncio.Task[None]] = set()
        while True:
            room = self.batch - len(running)
            notices = []
            if not running or room * 2 >= self.batch:
                notices = await self.client.claim(room, self.lease_seconds)
                running |= {asyncio.create_task(self.delivery.deliver(notice)) for notice in notices}
            if not running:
                return done
            until = asyncio.FIRST_COMPLETED if notices or room * 2 < self.batch else asyncio.ALL_COMPLETED
            finished, running = await asyncio.wait(running, return_when=until)
            for task in finished:
                if task.exception() is not None:
                    log.error("notice_delivery_failed", error=repr(task.exception()))
            done += len(finished)

    async def _watch_cancellations(self) -> None:
        """While a broadcast is being sent, ask every `cancel_check_seconds` whether the operator
        cancelled it; its notices not yet sent are then dropped (cancelling takes effect within a
        second: this wait, plus the few sends already under way)."""
        while True:
            await asyncio.sleep(self.cancel_check_seconds)
            sending = self.delivery.broadcasts_in_flight - self.delivery.cancelled
            if sending:
                try:
                    self.delivery.cancelled |= await self.client.cancelled(sending)
                except Exception:
                    log.exception("broadcast_cancel_check_failed")

    async def _job(self) -> None:
        """Start a tick unless the last one still runs (a long broadcast spans many intervals)."""
        if self._ticking is None or self._ticking.done():
            self._ticking = asyncio.create_task(self._logged_tick())

    async def _logged_tick(self) -> None:
        try:
            await self.tick()
        except Exception:
            log.exception("scheduler_tick_failed")

    def start(self) -> None:
        """Tick every `every_seconds` from now on (the first at once); one tick at a time."""
        scheduler = AsyncIOScheduler(timezone="Asia/Shanghai")
        scheduler.add_job(
            self._job,
            "interval",
            seconds=self.every_seconds,
            id="notices",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        ticking, self._ticking = self._ticking, None
        if ticking is not None:
            ticking.cancel()  # what it was sending is recorded when the lease runs out (unknown)
            with contextlib.suppress(asyncio.CancelledError):
                await ticking
        await self.delivery.reports.close()
        await self.leadership.release()
