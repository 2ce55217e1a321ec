"""The ticking: APScheduler 3 (AsyncIOScheduler, in memory) runs one job. In the elected process
it asks for due notices and delivers them batch by batch; elsewhere it only tries to be elected.
Nothing durable lives in APScheduler: the notices table is the state, so a restart loses nothing."""

from __future__ import annotations

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
    ) -> None:
        self.client = client
        self.delivery = delivery
        self.leadership = leadership
        self.every_seconds = every_seconds
        self.batch = batch
        self.lease_seconds = lease_seconds
        self._scheduler: AsyncIOScheduler | None = None

    async def tick(self) -> int:
        """One round, if this process leads: the reminder rules, then claimed batches until
        nothing may go now. Returns how many notices were delivered (whatever the outcome)."""
        if not await self.leadership.acquire():
            return 0
        await self.client.due()
        done = 0
        while True:
            notices = await self.client.claim(self.batch, self.lease_seconds)
            if not notices:
                return done
            await self.delivery.deliver_all(notices)
            done += len(notices)

    async def _job(self) -> None:
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
        await self.leadership.release()
