"""The WeChat channel against the fake WeChat API (tests/wechat/fake_api.py) on 127.0.0.1: 50
followers at once, each sending 4 messages one after another to POST /webhooks/wechat of one
`jianpei serve` process, on SQLite and PostgreSQL (plain mode). Two figures: how long WeChat waits
for the webhook's "success" (it gives up after 5 s), and message -> first customer-service reply."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench._in_thread import in_thread
from bench._server import Figures, database, serving
from tests.wechat.fake_api import APP_ID, APP_SECRET, TOKEN, FakeWechat, WechatServer

FOLLOWERS = 50
SCRIPT = ("/greet", "/contact_support", "能快进吗", "/faq_hours")


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
        with database(kind) as url, in_thread(FakeWechat()) as wechat:
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
