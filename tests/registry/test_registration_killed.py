"""`jianpei serve` killed with -9 in the middle of a registration leaves all of it or none of it,
and the registration sent again with the same code is told it succeeded: no account the trainee
was never told about, nothing written twice.

The server is a real `jianpei serve` process on a real SQLite file, killed with SIGKILL at two
points: just after the request reached it (before anything is committed, while the password is
hashed) and just after the account was committed (before or while its answer is sent).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from storage import migrate
from storage.db import create_engine
from storage.models import Person, RegistryAccount, SmsMessage
from tests.people import make_id_number, make_phone

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`jianpei serve` as an operator starts it, answering /health; killed with -9 if still up."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, "jianpei serve exited"
                assert time.monotonic() < deadline, "jianpei serve did not come up"
            time.sleep(0.1)
        yield server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)


class Database:
    """The test's own view of the server's SQLite file."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def _query(self, *queries: object) -> list[object]:
        engine = create_engine(self.url)
        try:
            async with engine.connect() as conn:
                return [(await conn.execute(query)).scalar() for query in queries]  # type: ignore[call-overload]
        finally:
            await engine.dispose()

    def upgrade(self) -> None:
        async def migrated() -> None:
            engine = create_engine(self.url)
            try:
                await migrate.upgrade(engine)
            finally:
                await engine.dispose()

        asyncio.run(migrated())

    def code(self, phone: str) -> str:
        query = (
            select(SmsMessage.text).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()).limit(1)
        )
        (text,) = asyncio.run(self._query(query))
        match = re.search(r"\d{6}", str(text))
        assert match is not None
        return match.group(0)

    def rows(self, id_number: str) -> tuple[int, int]:
        """People and accounts of the ID number."""
        people, accounts = asyncio.run(
            self._query(
                select(func.count(Person.id)).where(Person.id_number == id_number),
                select(func.count(RegistryAccount.id)).join(Person).where(Person.id_number == id_number),
            )
        )
        return int(people or 0), int(accounts or 0)  # type: ignore[call-overload]


def _send_raw(port: int, path: str, body: bytes) -> socket.socket:
    """A request written to the server; the answer, if any, is left unread."""
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(
        f"POST {path} HTTP/1.1\r\nHost: jianpei\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return conn


def _kill_during_registration(
    server: subprocess.Popen[bytes], database: Database, port: int, committed: bool
) -> tuple[dict[str, str], str]:
    """Start a registration, kill the server with -9 at the point, and check what it left behind;
    returns the registration and its code, to be sent again."""
    body = {"name": "查干湖", "id_number": make_id_number(), "phone": make_phone()}
    sent = httpx.post(f"http://127.0.0.1:{port}/api/registry/sms-codes", json=body, timeout=120)
    assert sent.status_code == 202
    code = database.code(body["phone"])
    conn = _send_raw(
        port, "/api/registry/accounts", httpx.Request("POST", "/", json={**body, "code": code}).content
    )
    if committed:
        deadline = time.monotonic() + 60
        while database.rows(body["id_number"])[1] == 0:
            assert time.monotonic() < deadline, "the registration was never committed"
            time.sleep(0.005)
    else:
        # The request has reached the server, which hashes the password before it writes anything;
        # the kill usually lands there, and a registration that beat it must be whole.
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    conn.close()
    rows = database.rows(body["id_number"])
    assert rows in {(0, 0), (1, 1)}, "a person without an account is half a registration"
    if committed:
        assert rows == (1, 1)
    return body, code


def _retried(port: int, database: Database, body: dict[str, str], code: str) -> None:
    """The registration sent again with its code succeeds once, and the account logs in."""
    base = f"http://127.0.0.1:{port}"
    retried = httpx.post(f"{base}/api/registry/accounts", json={**body, "code": code}, timeout=120)
    assert retried.status_code == 201, retried.text
    assert "注册成功" in retried.json()["message"]
    assert database.rows(body["id_number"]) == (1, 1)
    login = {"login": body["id_number"], "password": body["phone"]}
    assert httpx.post(f"{base}/api/registry/sessions", json=login, timeout=120).status_code == 200


def test_registration_killed_with_minus_9_is_all_or_nothing_and_retried_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'jianpei.sqlite3'}"
    env = {
        **os.environ,
        "JIANPEI_DATABASE_URL": url,
        "JIANPEI_DATA_DIR": str(tmp_path / "data"),
        "JIANPEI_ENV": "test",
        # Registration is the backend's; an external dialogue engine (none listening) spares each
        # start training or loading the embedded NLU model.
        "JIANPEI_RASA_URL": f"http://127.0.0.1:{_free_port()}",
    }
    database = Database(url)
    database.upgrade()  # as `jianpei db upgrade` does, without seconds of imports in a process of its own
    port = _free_port()

    with _serving(env, port) as server:
        early = _kill_during_registration(server, database, port, committed=False)
    with _serving(env, port) as server:
        _retried(port, database, *early)
        late = _kill_during_registration(server, database, port, committed=True)
    with _serving(env, port):
        _retried(port, database, *late)
