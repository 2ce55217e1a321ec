"""Waiting for a server subprocess the tests started (`jianpei serve`, `jianpei actions`, rasa-sdk's
action server) to answer."""

from __future__ import annotations

import asyncio

import httpx
import pytest


async def until_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    """Poll /health until the server answers (it may still be loading its model or its actions), for
    two minutes; a server that stopped fails at once, pointing at its log."""
    async with httpx.AsyncClient() as probe:
        for _attempt in range(1200):
            try:
                if (await probe.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                assert process.returncode is None, "the server stopped; see its log"
                await asyncio.sleep(0.1)  # readiness poll: the server is still loading
    pytest.fail("the server did not start within two minutes")
