"""When the database refuses connections, requests get a Chinese 503 and /health says the database is
down; an unexpected failure is a 500 with an error id. Either way the log gets one short line and the
keep-alive connection stays usable, on a real uvicorn server spoken to over one raw socket."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog

from services.app import build_backend, create_app
from services.logging import configure_logging
from services.settings import Settings
from tests.assistant.test_action_server import free_port
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.postgres import create_database, drop_database


@pytest.fixture
def serve_logging() -> Iterator[None]:
    configure_logging("dev")
    yield
    structlog.reset_defaults()


@pytest.fixture(params=["sqlite", "postgresql"])
def refusing_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database nobody can connect to: a folder where the SQLite file should be, a port with no
    PostgreSQL behind it."""
    if request.param == "sqlite":
        (tmp_path / "a-folder").mkdir()
        return f"sqlite+aiosqlite:///{tmp_path / 'a-folder'}"
    return f"postgresql+asyncpg://jianpei@127.0.0.1:{free_port()}/jianpei"


@pytest.fixture(params=["sqlite", "postgresql"])
async def broken_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database that answers but fails every query: a file that is no SQLite database, a PostgreSQL
    database with no tables."""
    if request.param == "sqlite":
        garbage = tmp_path / "garbage.sqlite3"
        garbage.write_bytes(b"not a database, " * 512)
        yield f"sqlite+aiosqlite:///{garbage}"
        return
    server_url = request.getfixturevalue("postgres_url")
    name = f"jianpei_empty_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield await create_database(server_url, name)
    await drop_database(server_url, name)


class Connection:
    """One HTTP/1.1 keep-alive connection, read and written by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        content = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: jianpei.test\r\nContent-Length: {len(content)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        self.writer.write(head.encode() + b"\r\n" + content)
        await self.writer.drain()
        status_line, *lines = (await self.reader.readuntil(b"\r\n\r\n")).decode().strip().split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        payload = await self.reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1]), headers, json.loads(payload)


@asynccontextmanager
async def connection_to(url: str, data_dir: Path) -> AsyncIterator[Connection]:
    """The backend on `url`, served by uvicorn, and one connection to it."""
    settings = Settings(
        env="test",
        data_dir=data_dir,
        database_url=url,
        secret_key="test-secret",
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(build_backend(settings))
    async with uvicorn_serving(app) as base:
        host, port = base.removeprefix("http://").split(":")
        connection = Connection(*await asyncio.open_connection(host, int(port)))
        try:
            yield connection
        finally:
            connection.writer.close()
            await connection.writer.wait_closed()


LOGIN = {"login": "".join(["220102", "19780512", "0319"]), "password": "x"}


@pytest.mark.usefixtures("serve_logging")
async def test_a_database_that_refuses_connections_is_a_503_and_health_says_so(
    refusing_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with connection_to(refusing_url, tmp_path / "var") as connection:
        await ask_twice_while_down(connection)
    printed = capsys.readouterr()
    lines = [line for line in (printed.out + printed.err).splitlines() if line.strip()]
    assert len(lines) == 2 and all("database_unreachable" in line for line in lines), lines
    assert "Traceback" not in printed.out + printed.err


async def ask_twice_while_down(connection: Connection) -> None:
    for _attempt in range(2):
        status, headers, body = await connection.request("POST", "/api/registry/sessions", LOGIN)
        assert status == 503 and headers.get("connection") != "close"
        assert body["error"]["code"] == "database_unavailable"
        assert "数据库" in body["error"]["message"] and body["error"]["error_id"] in body["error"]["message"]
        status, headers, health = await connection.request("GET", "/health")
        assert status == 503 and headers.get("connection") != "close"
        assert health["status"] == "database_down" and health["schema_version"] is None


@pytest.mark.usefixtures("serve_logging")
async def test_after_an_unexpected_500_the_connection_stays_usable_and_the_log_has_one_line(
    broken_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = []
    async with connection_to(broken_url, tmp_path / "var") as connection:
        for _attempt in range(3):
            status, headers, body = await connection.request("POST", "/api/registry/sessions", LOGIN)
            assert status == 500 and headers.get("connection") != "close"
            assert body["error"]["code"] == "internal_error" and "4009999355" in body["error"]["message"]
            ids.append(body["error"]["error_id"])
            assert ids[-1] in body["error"]["message"]
        status, _headers, body = await connection.request("GET", "/no/such/page")
        assert status == 404  # the same connection still answers
    printed = capsys.readouterr()
    output = printed.out + printed.err
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 3 and len(output) < 1_500, output
    assert [error_id in line for error_id, line in zip(ids, lines, strict=True)] == [True] * 3
    assert all("unexpected_error" in line and "/api/registry/sessions" in line for line in lines)
    assert "Traceback" not in output and LOGIN["login"] not in output
