"""Registration and login throughput of the management system over real HTTP, SQLite and PostgreSQL.

A registration is what a person does: ask for the SMS code, read it (here from the outbox through
the admin API), register with it. Both are bound by argon2 (deliberately slow password hashing),
which runs in worker threads.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Awaitable, Callable

import httpx

from bench._server import Figures, database, serving
from rules.identity import id_check_char

REQUESTS = 300
ADMIN_TOKEN = "bench-admin-token"  # noqa: S105 - a throwaway server's token
CONCURRENCY = 32


def people(count: int, offset: int) -> list[tuple[str, str]]:
    made = []
    for index in range(count):
        first17 = f"220102{1960 + index % 40}0{1 + index % 9}1{index % 10}{(offset + index) % 1000:03d}"
        made.append((first17 + id_check_char(first17), f"13{offset % 10}{index:08d}"))
    return made


async def measure(
    label: str, count: int, call: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]], base: str
) -> Figures:
    latencies: list[float] = []
    counter = itertools.count()
    limits = httpx.Limits(max_connections=CONCURRENCY)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def worker() -> None:
            while (index := next(counter)) < count:
                started = time.perf_counter()
                response = await call(client, index)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 300:
                    raise RuntimeError(f"{label}: {response.status_code} {response.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return Figures(label, count, time.perf_counter() - started, latencies)


async def run(base: str, kind: str) -> None:
    cohort = people(REQUESTS, offset=7)

    async def register(client: httpx.AsyncClient, index: int) -> httpx.Response:
        id_number, phone = cohort[index]
        person = {"name": "白山松", "id_number": id_number, "phone": phone}
        (await client.post("/api/registry/sms-codes", json=person)).raise_for_status()
        outbox = await client.get(
            "/api/admin/sms-outbox",
            params={"phone": phone, "limit": 1},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        code = re.search(r"\d{6}", outbox.json()[0]["text"])
        assert code is not None
        return await client.post("/api/registry/accounts", json={**person, "code": code.group(0)})

    async def login(client: httpx.AsyncClient, index: int) -> httpx.Response:
        id_number, phone = cohort[index]
        return await client.post("/api/registry/sessions", json={"login": id_number, "password": phone})

    print((await measure(f"register ({kind})", REQUESTS, register, base)).line(), flush=True)
    print((await measure(f"login ({kind})", REQUESTS, login, base)).line(), flush=True)


def main() -> None:
    print(f"{REQUESTS} requests each, {CONCURRENCY} concurrent clients, one `jianpei serve` process")
    for kind in ("sqlite", "postgresql"):
        with database(kind) as url, serving(url, JIANPEI_ADMIN_TOKEN=ADMIN_TOKEN) as base:
            asyncio.run(run(base, kind))


if __name__ == "__main__":
    main()
