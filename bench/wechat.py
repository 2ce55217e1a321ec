"""The WeChat channel against the fake WeChat API (tests/wechat/fake_api.py) on 127.0.0.1: 50
followers at once, each sending 4 messages one after another to POST /webhooks/wechat of one
`jianpei serve` process, on SQLite and PostgreSQL (plain mode). Two figures: how long WeChat waits
for the webhook's "success" (it gives up after 5 s), and message -> first customer-service reply."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from bench._server import Figures, database, serving
from tests.wechat.fake_api import APP_ID, APP_SECRET, TOKEN, FakeWechat, WechatServer

T = TypeVar("T")
FOLLOWERS = 50
SCRIPT = ("/greet", "/contact_support", "能快进吗", "/faq_hours")


class FakeInThread:
    """The fake API on its own event loop, so the synchronous helpers of bench/_server can run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = FakeWechat()
        self.base = self.run(self.fake.start())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def close(self) -> None:
        self.run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


@contextmanager
def fake_wechat() -> Iterator[FakeInThread]:
    running = FakeInThread()
    try:
        yield running
    finally:
        running.close()


async def latency(fake: FakeWechat, base: str, kind: str) -> tuple[Figures, Figures]:
    acknowledged: list[float] = []
    replied: list[float] = []

    async def follower(number: int) -> None:
        openid = f"oBench{number:021d}"
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            server = WechatServer(http, openid)
            for text in SCRIPT:
                before = len(fake.sent(openid))
                started = time.perf_counter()
                answer = await server.post(server.text(text))
                if answer.status_code != 200 or answer.text != "success":
                    raise RuntimeError(f"{answer.status_code} {answer.text}")
                acknowledged.append(time.perf_counter() - started)
                await fake.wait_for(lambda seen=before: len(fake.sent(openid)) > seen, within=120)
                replied.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(follower(n) for n in range(FOLLOWERS)))
    seconds = time.perf_counter() - started
    return (
        Figures(f"webhook -> success ({kind})", len(acknowledged), seconds, acknowledged),
        Figures(f"message -> reply ({kind})", len(replied), seconds, replied),
    )


def main() -> None:
    print(
        f"{FOLLOWERS} WeChat followers x {len(SCRIPT)} messages through POST /webhooks/wechat of one "
        "`jianpei serve` process; reply = message posted -> first customer-service message at the fake API"
    )
    for kind in ("sqlite", "postgresql"):
        with database(kind) as url, fake_wechat() as wechat:
            env = {
                "JIANPEI_WECHAT_APP_ID": APP_ID,
                "JIANPEI_WECHAT_APP_SECRET": APP_SECRET,
                "JIANPEI_WECHAT_TOKEN": TOKEN,
                "JIANPEI_WECHAT_API_BASE": wechat.base,
            }
            with serving(url, **env) as base:
                for figures in wechat.run(latency(wechat.fake, base, kind)):
                    print(figures.line(), flush=True)
        print(f"access_token fetches: {wechat.fake.token_fetches}", flush=True)
