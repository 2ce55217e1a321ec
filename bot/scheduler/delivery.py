"""One claimed notice to its person: the text of `utter_notice_<kind>` from domain.yml with its
buttons and how to stop reminders, to every bound chat through the outbound registry; by SMS when
no chat can take it. Whatever happens, one result is reported, and a notice is never sent again."""

from __future__ import annotations

import asyncio

import structlog

from bot.channels.base import Answer
from bot.channels.outbound import Outbound, UnknownChannel
from bot.channels.telegram.sender import ChatBlocked
from bot.runtime.domain import Domain
from bot.runtime.responses import render
from bot.scheduler.client import Claimed, NoticesClient, StaleClaim

log = structlog.get_logger(__name__)

STOP_RESPONSE = "utter_notice_stop"
COMPLETION = "completion"


class Delivery:
    def __init__(self, client: NoticesClient, outbound: Outbound, domain: Domain, parallel: int = 30) -> None:
        self.client = client
        self.outbound = outbound
        self.domain = domain
        self._slots = asyncio.Semaphore(parallel)

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

    async def deliver_all(self, notices: list[Claimed]) -> None:
        await asyncio.gather(*(self.deliver(notice) for notice in notices))

    async def deliver(self, notice: Claimed) -> None:
        async with self._slots:
            try:
                await self._deliver(notice)
            except StaleClaim:
                log.warning("notice_claim_lost", notice=notice.id)

    async def _deliver(self, notice: Claimed) -> None:
        answers = self.answers(notice)
        if not answers:
            log.error("notice_without_text", notice=notice.id, kind=notice.kind)
            await self.client.result(notice, "failed", detail="no_response")
            return
        sent = blocked = 0
        for chat in notice.chats:
            try:
                await self.outbound.send(chat, answers)
                sent += 1
            except ChatBlocked:
                blocked += 1
            except UnknownChannel:
                continue  # a channel this server does not run; SMS covers it if nothing else does
            except Exception:
                log.exception("notice_send_failed", notice=notice.id)
        if sent:
            await self.client.result(notice, "sent")
        elif notice.has_phone:
            await self.client.sms(notice, self.sms_text(notice))
        elif blocked:
            await self.client.result(notice, "blocked")
        else:
            await self.client.result(notice, "failed", detail="unreachable")
