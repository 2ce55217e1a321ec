"""What every command shares: settings, logging and a backend bound to the configured database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from services.context import Backend

T = TypeVar("T")


def run_with_backend(work: Callable[[Backend], Awaitable[T]]) -> T:
    """Run `work` against the configured database and close the engine afterwards.

    The backend is imported here, not at the top, so `jianpei --help` starts without loading it.
    """
    from services.app import build_backend
    from services.logging import configure_logging
    from services.settings import get_settings

    settings = get_settings()
    configure_logging(settings.env)

    async def runner() -> T:
        backend = build_backend(settings)
        try:
            return await work(backend)
        finally:
            await backend.engine.dispose()

    return asyncio.run(runner())
