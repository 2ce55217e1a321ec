"""A client that sends its headers and then trickles the body is cut off, not waited on for ever."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from tests.assistant.test_end_to_end import uvicorn_serving

DEADLINE_SECONDS = 1.0


@pytest.fixture
async def served(backend: Backend, interpreter: Interpreter) -> AsyncIterator[tuple[str, int]]:
    backend.settings = backend.settings.model_copy(update={"request_body_timeout_seconds": DEADLINE_SECONDS})
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with uvicorn_serving(app) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def _head(length: int) -> bytes:
    return (
        "POST /api/registry/sessions HTTP/1.1\r\nHost: jianpei\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status = int((await reader.readline()).split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, await reader.readexactly(int(headers["content-length"]))


async def _rest(reader: asyncio.StreamReader) -> bytes:
    """What the server sends after its answer: nothing, as it closes (a reset, as the client is still
    writing into a closed socket, is a close too)."""
    try:
        return await reader.read()
    except ConnectionResetError:
        return b""


async def test_a_trickled_body_is_cut_off_with_408_and_the_connection_closed(served: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*served)
    writer.write(_head(1000))
    await writer.drain()

    async def trickle() -> None:
        for _ in range(1000):  # a byte every 0.1 s would take 100 s; the server must not wait that long
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.1)

    trickling = asyncio.create_task(trickle())
    try:
        status, headers, body = await asyncio.wait_for(_answer(reader), timeout=30)
        assert status == 408
        assert headers.get("connection") == "close"
        error = json.loads(body)["error"]
        assert error["code"] == "body_timeout"
        assert "太慢" in error["message"]
        assert await asyncio.wait_for(_rest(reader), timeout=30) == b"", "the server closed the connection"
    finally:
        trickling.cancel()
        writer.close()


async def test_a_body_that_arrives_in_pieces_in_time_is_answered(served: tuple[str, int]) -> None:
    body = json.dumps({"login": "220102197805120319", "password": "not-it-123"}).encode()
    reader, writer = await asyncio.open_connection(*served)
    writer.write(_head(len(body)) + body[:10])
    await writer.drain()
    await asyncio.sleep(DEADLINE_SECONDS / 4)
    writer.write(body[10:])
    await writer.drain()
    status, _, answer = await asyncio.wait_for(_answer(reader), timeout=30)
    writer.close()
    assert status == 401, "the login was judged, not cut off"
    assert json.loads(answer)["error"]["code"] == "bad_credentials"
