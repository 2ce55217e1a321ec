"""The assistant through its REST channel: messages per second and latency with 200 conversations at
once against one `jianpei serve` process, on SQLite and PostgreSQL.

Each conversation is a trainee asking typed questions (the NLU), pressing buttons and walking into
the registration form and out again (取消): every turn locks its sender, loads and saves the tracker.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from bench._server import Figures, database, serving

CONVERSATIONS = 200
SCRIPT = (
    "你好",
    "/contact_support",
    "能快进吗",
    "照片有什么要求",
    "/register",
    "查干湖",
    "220723197011030711",
    "取消",
)


async def run(base: str, kind: str) -> Figures:
    """Each conversation is its own client with its own connection, as 200 phones would be."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=300) as warm:
        await warm.post("/webhooks/rest/webhook", json={"sender": "warm-up", "message": "你好"})

    async def conversation(number: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            for text in SCRIPT:
                started = time.perf_counter()
                answer = await client.post(
                    "/webhooks/rest/webhook", json={"sender": f"bench-{kind}-{number}", "message": text}
                )
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200 or not answer.json():
                    raise RuntimeError(f"{text}: {answer.status_code} {answer.text}")

    started = time.perf_counter()
    await asyncio.gather(*(conversation(n) for n in range(CONVERSATIONS)))
    return Figures(f"assistant turns ({kind})", len(latencies), time.perf_counter() - started, latencies)


def main() -> None:
    print(
        f"{CONVERSATIONS} concurrent conversations x {len(SCRIPT)} messages, POST /webhooks/rest/webhook,"
        " one `jianpei serve` process (embedded NLU and dialogue)"
    )
    for kind in ("sqlite", "postgresql"):
        with database(kind) as url, serving(url) as base:
            print(asyncio.run(run(base, kind)).line(), flush=True)


if __name__ == "__main__":
    main()
