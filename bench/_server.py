"""Shared by the benchmarks: a migrated database on SQLite or PostgreSQL, and `jianpei serve` on it."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.postgres import create_database, drop_database, postgres_server


@dataclass(frozen=True)
class Figures:
    """Throughput and latency of one batch of requests."""

    label: str
    requests: int
    seconds: float
    latencies: list[float]

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{self.label:<32} {self.requests / self.seconds:8.1f} req/s   "
            f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"
            f"   (n={self.requests})"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL of `kind` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jianpei-bench-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    with postgres_server() as server_url:
        name = f"jianpei_bench_{uuid.uuid4().hex[:8]}"
        url = asyncio.run(create_database(server_url, name))
        try:
            yield url
        finally:
            asyncio.run(drop_database(server_url, name))


@dataclass(frozen=True)
class Served:
    """A running `jianpei serve`: its base URL and the process id (for its CPU time)."""

    base: str
    host: str
    port: int
    pid: int


@contextmanager
def serve_process(database_url: str, *, workers: int = 1, **extra_env: str) -> Iterator[Served]:
    """Migrate, then run `jianpei serve` as its own process (with `workers` worker processes),
    exactly as an operator starts it."""
    with tempfile.TemporaryDirectory(prefix="jianpei-bench-data-") as data_dir:
        env = {
            **os.environ,
            "JIANPEI_DATABASE_URL": database_url,
            "JIANPEI_DATA_DIR": data_dir,
            "JIANPEI_ENV": "test",
            **extra_env,
        }
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        port = free_port()
        several = ["--workers", str(workers)] if workers > 1 else []
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), *several],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            # Importing the chat channels alone takes half a minute on a busy two-core machine, and
            # several workers each import it, side by side.
            deadline = time.monotonic() + 900
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                time.sleep(0.2)
            yield Served(base=base, host="127.0.0.1", port=port, pid=server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its descendants (Linux /proc): a server's workers too."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        pending.extend(int(child) for child in children)
    return total


def tree_core_wait_seconds(pid: int) -> float:
    """Time the threads of a process tree spent ready to run but waiting for a core (Linux
    schedstat): on a shared machine, the part of the wall time when the server wanted the CPU and
    others had it."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                continue
        pending.extend(int(child) for child in children)
    return total


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy so far (all processes, all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(database_url: str, **extra_env: str) -> Iterator[str]:
    """Migrate, then run `jianpei serve` as its own process; yields its base URL."""
    with serve_process(database_url, workers=1, **extra_env) as served:
        yield served.base
