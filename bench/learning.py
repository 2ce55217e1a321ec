"""Heartbeat throughput and latency of the learning player, over real HTTP, against `jianpei serve`.

2,000 learners each hold a watch session and a keep-alive connection to `jianpei serve` (a process
of its own, started as an operator starts it) on 127.0.0.1 and report positions that follow the real
clock, so every report passes the no-skip checks and is credited. Two phases: flat out (each learner
sends its next report as soon as the last is answered: the throughput ceiling) and paced (each
learner reports every 5 seconds, as the player does: the latency of 2,000 people watching at once).
Each phase counts refused reports (the goal is none: every report here is honest) and connections
the server closed (the goal is none: the player keeps one). Runs on SQLite and on PostgreSQL, each a
fresh database. The cohort is written straight into the database (2,000 accounts over HTTP would
only measure argon2); every heartbeat goes over HTTP.

    python -m bench learning            # or: make bench
    JIANPEI_BENCH_DATABASES=postgresql python -m bench learning
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench._server import Figures, Served, database, machine_busy_seconds, serve_process, tree_cpu_seconds
from storage import migrate
from storage.db import create_engine
from storage.models import (
    AuthToken,
    Certificate,
    Course,
    CoursePackage,
    Enrolment,
    EnrolmentCourse,
    LearningAccount,
    LearningCertificate,
    Person,
    WatchSession,
)

LEARNERS = int(os.environ.get("JIANPEI_BENCH_LEARNERS", "2000"))
FLAT_OUT_SECONDS = 10.0
PACED_SECONDS = 30.0
PACE_SECONDS = 5.0  # the player's default heartbeat interval
DATABASES = os.environ.get("JIANPEI_BENCH_DATABASES", "sqlite,postgresql").split(",")


@dataclass(frozen=True)
class Learner:
    token: str
    session_id: str


async def seed(url: str, started: datetime) -> list[Learner]:
    """Migrate, then write the cohort: person, certificate, account, order, one open watch session each."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    ids = range(1, LEARNERS + 1)
    learners = [
        Learner(token=f"bench-token-{i:05d}-{os.urandom(8).hex()}", session_id=f"{i:032x}") for i in ids
    ]
    async with engine.begin() as conn:
        await conn.execute(
            insert(Person),
            [
                {
                    "id": i,
                    "id_number": f"B{i:017d}",
                    "name": "白山松",
                    "created_at": started,
                    "updated_at": started,
                }
                for i in ids
            ],
        )
        await conn.execute(
            insert(Certificate),
            [
                {
                    "id": i,
                    "person_id": i,
                    "certificate_number": f"BENCH{i:06d}",
                    "position": "机械员",
                    "category": "专业人员",
                    "status": "非正常",
                    "remark": "未按要求完成继续教育",
                    "issued_on": date(2020, 1, 1),
                    "created_at": started,
                    "updated_at": started,
                }
                for i in ids
            ],
        )
        await conn.execute(
            insert(LearningAccount),
            [
                {
                    "id": i,
                    "person_id": i,
                    "phone": f"139{i:08d}",
                    "password_hash": "-",
                    "must_change_password": False,
                    "failed_logins": 0,
                    "created_at": started,
                    "updated_at": started,
                }
                for i in ids
            ],
        )
        await conn.execute(
            insert(LearningCertificate),
            [{"id": i, "account_id": i, "certificate_id": i, "pulled_at": started} for i in ids],
        )
        await conn.execute(
            insert(Course),
            [
                {
                    "id": 1,
                    "code": "BENCH-1",
                    "title": "施工机械设备管理",
                    "kind": "专业",
                    "positions": [],
                    "hours": 32.0,
                    "duration_seconds": 36_000,
                    "media": "BENCH-1.webm",
                    "active": True,
                    "created_at": started,
                    "updated_at": started,
                }
            ],
        )
        await conn.execute(
            insert(CoursePackage),
            [
                {
                    "id": 1,
                    "code": "PKG-BENCH",
                    "title": "机械员课程包",
                    "positions": ["机械员"],
                    "active": True,
                    "created_at": started,
                    "updated_at": started,
                }
            ],
        )
        await conn.execute(
            insert(Enrolment),
            [
                {
                    "id": i,
                    "order_number": f"KCBENCH{i:08d}",
                    "person_id": i,
                    "certificate_id": i,
                    "cycle_year": started.year,
                    "package_id": 1,
                    "package_title": "机械员课程包",
                    "general_exempt": False,
                    "created_at": started,
                }
                for i in ids
            ],
        )
        await conn.execute(
            insert(EnrolmentCourse),
            [
                {
                    "id": i,
                    "enrolment_id": i,
                    "course_id": 1,
                    "seq": 1,
                    "kind": "专业",
                    "title": "施工机械设备管理",
                    "hours": 32.0,
                    "duration_seconds": 36_000,
                    "credited_seconds": 0.0,
                }
                for i in ids
            ],
        )
        await conn.execute(
            insert(WatchSession),
            [
                {
                    "id": i,
                    "public_id": learners[i - 1].session_id,
                    "person_id": i,
                    "enrolment_course_id": i,
                    "free_replay": False,
                    "started_at": started,
                    "start_position": 0.0,
                    "credited_in_session": 0.0,
                    "last_seq": 0,
                    "last_position": 0.0,
                    "last_report_at": started,
                    "previous_report_at": started,
                }
                for i in ids
            ],
        )
        await conn.execute(
            insert(AuthToken),
            [
                {
                    "token_hash": hashlib.sha256(learner.token.encode()).hexdigest(),
                    "system": "learning",
                    "person_id": i,
                    "created_at": started,
                    "expires_at": started.replace(year=started.year + 1),
                }
                for i, learner in zip(ids, learners, strict=True)
            ],
        )
    await engine.dispose()
    return learners


class Closed(Exception):
    """The server closed the connection (or announced it would): the learner must reconnect."""


class Connection:
    """One keep-alive HTTP/1.1 connection; a tiny client so the load generator leaves CPU to the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, token: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + body)
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("the server closed the connection")
            length, closing = 0, False
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    closing = True
            answer = int(status_line.split()[1]), await self.reader.readexactly(length)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            self.close()
            raise Closed from error
        if closing:
            self.close()
            raise Closed
        return answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    """What went wrong in one phase: refused reports by reason, connections the server closed."""

    refused: Counter[str] = field(default_factory=Counter)
    closed: int = 0

    def line(self) -> str:
        return f"  refused reports: {dict(self.refused) or 0}   closed connections: {self.closed}"


def _database_cpu_seconds(database: str) -> float:
    """CPU time of the PostgreSQL backends serving `database` (their process titles name it)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f" {database} ".encode() not in (entry / "cmdline").read_bytes().replace(b"\0", b" ") + b" ":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def load(
    served: Served, kind: str, database: str, learners: list[Learner], started_wall: float
) -> None:
    connections = [Connection(served.host, served.port) for _ in learners]
    sequence = [0] * len(learners)
    tally = Tally()

    async def report(index: int) -> float:
        learner = learners[index]
        begun = time.perf_counter()
        while True:
            sequence[index] += 1
            # The position follows the real clock since the session began, a little behind it.
            position = max(0.0, time.time() - started_wall - 1.0)
            body = json.dumps({"seq": sequence[index], "position": round(position, 3), "rate": 1.0}).encode()
            try:
                status, answer = await asyncio.wait_for(
                    connections[index].post(
                        f"/api/learning/watch/{learner.session_id}/heartbeats", learner.token, body
                    ),
                    timeout=120,
                )
            except Closed:
                tally.closed += 1  # as the player does: the same report again on a new connection
                continue
            if status != 200:
                tally.refused[json.loads(answer)["error"]["code"]] += 1
            return time.perf_counter() - begun

    async def flat_out(index: int, until: float, latencies: list[float]) -> None:
        while time.perf_counter() < until:
            latencies.append(await report(index))

    async def paced(index: int, until: float, latencies: list[float]) -> None:
        await asyncio.sleep(PACE_SECONDS * index / len(learners))  # spread the learners over one period
        next_at = time.perf_counter()
        while next_at < until:
            latencies.append(await report(index))
            next_at += PACE_SECONDS
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    warm: list[float] = []
    await asyncio.gather(*(flat_out(i, time.perf_counter() + 2.0, warm) for i in range(len(learners))))

    latencies: list[float] = []
    server_cpu, client_cpu = tree_cpu_seconds(served.pid), time.process_time()
    machine_cpu, database_cpu = machine_busy_seconds(), _database_cpu_seconds(database)
    begun = time.perf_counter()
    until = begun + FLAT_OUT_SECONDS
    await asyncio.gather(*(flat_out(i, until, latencies) for i in range(len(learners))))
    elapsed = time.perf_counter() - begun
    print(Figures("heartbeats, flat out", len(latencies), elapsed, latencies).line(), flush=True)
    server_cpu = tree_cpu_seconds(served.pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    machine_cpu = machine_busy_seconds() - machine_cpu
    database_cpu = _database_cpu_seconds(database) - database_cpu if kind == "postgresql" else 0.0
    others = max(0.0, machine_cpu - server_cpu - client_cpu - database_cpu)
    count = len(latencies)
    cores = os.cpu_count() or 1
    print(
        f"  CPU per heartbeat: jianpei serve {server_cpu / count * 1000:.2f} ms, PostgreSQL "
        f"{database_cpu / count * 1000:.2f} ms, load generator {client_cpu / count * 1000:.2f} ms\n"
        f"  cores busy: jianpei serve {server_cpu / elapsed:.2f}, PostgreSQL {database_cpu / elapsed:.2f}, "
        f"load generator {client_cpu / elapsed:.2f}, other processes {others / elapsed:.2f} (of {cores})\n"
        f"  => one jianpei serve process: about {1 / (server_cpu / count):.0f} heartbeats/s per core it gets",
        flush=True,
    )
    print(tally.line() + "   (warm-up and flat out)", flush=True)

    tally = Tally()
    latencies = []
    begun = time.perf_counter()
    until = begun + PACED_SECONDS
    await asyncio.gather(*(paced(i, until, latencies) for i in range(len(learners))))
    figures = Figures(
        f"heartbeats, every {PACE_SECONDS:g}s each", len(latencies), time.perf_counter() - begun, latencies
    )
    print(figures.line(), flush=True)
    print(tally.line() + "   (paced)", flush=True)
    for connection in connections:
        connection.close()


def main() -> None:
    for kind in DATABASES:
        print(
            f"{LEARNERS} learners, one keep-alive connection and one watch session each; "
            f"jianpei serve on 127.0.0.1; {kind}; {os.cpu_count()} CPU cores",
            flush=True,
        )
        with database(kind) as url:
            started = datetime.now(UTC)
            learners = asyncio.run(seed(url, started))
            with serve_process(url) as served:
                database_name = make_url(url).database or ""
                asyncio.run(load(served, kind, database_name, learners, started.timestamp()))
    print("command: python -m bench learning   (JIANPEI_BENCH_DATABASES=sqlite|postgresql for one of them)")


if __name__ == "__main__":
    main()
