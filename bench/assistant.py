"""The assistant through its REST channel: messages per second, latency and the server's CPU with 200
conversations at once against `jianpei serve`, on SQLite (one process) and PostgreSQL (one and two
worker processes).

Each conversation is a trainee asking typed questions (the NLU), pressing buttons and walking into
the registration form and out again (取消): every turn locks its sender, loads and saves the tracker.
Every conversation is its own keep-alive connection, as 200 phones would be; the client is a few
lines of asyncio so that the load generator leaves the CPU to the server. "server CPU / wall" is the
CPU time of the server's whole process tree over the wall time of the load: 1.0 is one core busy.
"waiting for a core" is the time its threads were ready to run while the machine's cores were busy
with other work: on a shared machine, CPU + that wait close to the wall time (per worker) means the
server was bound by the CPU it was given, not waiting on anything of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass

from bench._server import (
    Served,
    database,
    machine_busy_seconds,
    serve_process,
    tree_core_wait_seconds,
    tree_cpu_seconds,
)

CONVERSATIONS = 200
WARM_UP = 40  # conversations before the measured ones, not counted
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
LENGTHS = (5, 8)  # messages per conversation: the first five, then the whole script
SETUPS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2))  # database, worker processes
PATH = "/webhooks/rest/webhook"


class Connection:
    """One keep-alive HTTP/1.1 connection to the REST channel."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, payload: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = json.dumps(payload, ensure_ascii=False).encode()
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass(frozen=True)
class Load:
    """One batch of conversations: what the clients saw and what the server spent."""

    label: str
    latencies: list[float]
    wall: float
    server_cpu: float
    server_core_wait: float
    machine_cpu: float
    workers: int

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        busy = self.server_cpu / self.wall
        return (
            f"{self.label:<26} {len(ordered) / self.wall:7.1f} msg/s   p50 {p50 * 1000:6.0f} ms"
            f"   p99 {p99 * 1000:6.0f} ms  (p99/p50 {p99 / p50:4.1f})"
            f"   server CPU/wall {self.server_cpu:5.1f}/{self.wall:5.1f} s = {busy:4.2f}"
            f" ({busy / self.workers:4.2f} per worker)   waiting for a core {self.server_core_wait:5.1f} s"
            f"   machine busy {self.machine_cpu / self.wall:4.2f} of {os.cpu_count()} cores"
        )


async def converse(served: Served, label: str, length: int, workers: int) -> Load:
    """CONVERSATIONS conversations at once, each sending the first `length` messages of the script,
    one after the answer to the other."""
    latencies: list[float] = []

    async def conversation(sender: str, script: tuple[str, ...], timed: bool = True) -> None:
        connection = Connection(served.host, served.port)
        try:
            for text in script:
                started = time.perf_counter()
                status, answer = await connection.post({"sender": sender, "message": text})
                if timed:
                    latencies.append(time.perf_counter() - started)
                if status != 200 or not json.loads(answer):
                    raise RuntimeError(f"{text}: {status} {answer.decode()}")
        finally:
            connection.close()

    # Every worker answers its first turns slower (connections opened, first model runs): a warm-up
    # batch, spread over all of them, is left out of the figures.
    await asyncio.gather(*(conversation(f"warm-{label}-{n}", SCRIPT, False) for n in range(WARM_UP)))
    cpu, core_wait = tree_cpu_seconds(served.pid), tree_core_wait_seconds(served.pid)
    machine, started = machine_busy_seconds(), time.perf_counter()
    await asyncio.gather(*(conversation(f"{label}-{n}", SCRIPT[:length]) for n in range(CONVERSATIONS)))
    wall = time.perf_counter() - started
    return Load(
        label,
        latencies,
        wall,
        tree_cpu_seconds(served.pid) - cpu,
        tree_core_wait_seconds(served.pid) - core_wait,
        machine_busy_seconds() - machine,
        workers,
    )


def measure(kind: str, workers: int) -> None:
    with database(kind) as url, serve_process(url, workers=workers) as served:
        for length in LENGTHS:
            label = f"{kind} x{workers} {CONVERSATIONS}x{length}"
            print(asyncio.run(converse(served, label, length, workers)).line(), flush=True)


def main() -> None:
    print(
        f"{CONVERSATIONS} concurrent conversations, each its own connection, POST {PATH} against"
        " `jianpei serve` (embedded NLU and dialogue); server CPU is its whole process tree"
    )
    for kind, workers in SETUPS:
        measure(kind, workers)


if __name__ == "__main__":
    main()
