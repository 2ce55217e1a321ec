"""One claimed notice to its person: the text of `utter_notice_<kind>` from domain.yml with its
buttons and how to stop reminders, to every bound chat through the outbound registry; by SMS when
no chat can take it. Whatever happens, one result is reported (with the platforms' message ids), and
a notice is never sent again. A notice of a broadcast the operator cancelled is not sent."""

from __future__ import annotations

import asyncio
from collections import Counter

import structlog

from bot.channels.base import Answer
from bot.channels.outbound import Outbound, UnknownChannel
from bot.channels.pace import SharedPace
from bot.channels.telegram.sender import ChatBlocked, SendUncertain
from bot.runtime.domain import Domain
from bot.runtime.responses import render
from bot.scheduler.client import Claimed, NoticesClient, Result, StaleClaim
from bot.scheduler.reports import Reports

log = structlog.get_logger(__name__)

STOP_RESPONSE = "utter_notice_stop"
COMPLETION = "completion"


SENDING_AT_ONCE = 10  # notices being sent at a time: enough to keep any platform's pace busy, and
# few enough that the ones already under way when a broadcast is cancelled go out within a second


class Delivery:
    def __init__(
        self,
        client: NoticesClient,
        outbound: Outbound,
        domain: Domain,
        at_once: int = SENDING_AT_ONCE,
        sms_pace: SharedPace | None = None,
    ) -> None:
        self.client = client
        self.sms_pace = sms_pace  # the SMS gateway's rate, kept over every process
        self.outbound = outbound
        self.domain = domain
        self._slots = asyncio.Semaphore(at_once)
        self.reports = Reports(client)
        self.cancelled: set[int] = set()  # broadcasts the operator cancelled (see NoticeScheduler)
        self._broadcasts: Counter[int] = Counter()  # broadcasts with a notice being delivered now

    @property
    def broadcasts_in_flight(self) -> set[int]:
        return set(self._broadcasts)

    def answers(self, notice: Claimed) -> list[Answer]:
        """The notice as chat answers: its text and next-step buttons, then how to stop reminders
        (a completion notice, which cannot be stopped, says it all the same)."""
        made = render(self.domain, f"utter_notice_{notice.kind}", {}, notice.params)
        stop = render(self.domain, STOP_RESPONSE, {})
        if made and stop:
            made[0]["text"] = f"{made[0].get('text', '')}\n{stop[0]['text']}"
        return made

    def sms_text(self, notice: Claimed) -> str:
        return "\n".join(str(answer.get("text") or "") for answer in self.answers(notice)).strip()

    async def deliver(self, notice: Claimed) -> None:
        broadcast = notice.broadcast_id
        if broadcast is not None:
            self._broadcasts[broadcast] += 1
        try:
            async with self._slots:
                result = await self._send(notice)
            if result is not None:
                await self.reports.record(result)
        except StaleClaim:
            log.warning("notice_claim_lost", notice=notice.id)
        finally:
            if broadcast is not None:
                self._broadcasts[broadcast] -= 1
                if not self._broadcasts[broadcast]:
                    del self._broadcasts[broadcast]

    def _stopped(self, notice: Claimed) -> bool:
        return notice.broadcast_id is not None and notice.broadcast_id in self.cancelled

    async def _send(self, notice: Claimed) -> Result | None:
        """Send the notice; what came of it, or None when the SMS route recorded it already."""
        answers = self.answers(notice)
        if not answers:
            log.error("notice_without_text", notice=notice.id, kind=notice.kind)
            return Result(notice, "failed", detail="no_response")
        sent: list[str] = []
        reached = blocked = uncertain = 0
        for chat in notice.chats:
            if self._stopped(notice):
                break
            try:
                sent.extend(f"{chat}/{message}" for message in await self.outbound.send(chat, answers))
                reached += 1
            except ChatBlocked:
                blocked += 1
            except SendUncertain:
                uncertain += 1
            except UnknownChannel:
                continue  # a channel this server does not run; SMS covers it if nothing else does
            except Exception:
                log.exception("notice_send_failed", notice=notice.id)
        if reached:
            return Result(notice, "sent", message_ids=sent)
        if uncertain:  # it may have arrived: an SMS as well could tell him twice
            return Result(notice, "unknown", detail="send_uncertain")
        if self._stopped(notice):
            return Result(notice, "cancelled")
        if notice.has_phone:
            if self.sms_pace is not None:
                await self.sms_pace.wait()
            await self.client.sms(notice, self.sms_text(notice))
            return None
        if blocked:
            return Result(notice, "blocked")
        return Result(notice, "failed", detail="unreachable")
