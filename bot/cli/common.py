"""What every command shares: settings, logging and a backend bound to the configured database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from services.context import Backend
    from services.settings import Settings

T = TypeVar("T")


def load_settings(*, say_secret: bool = False) -> Settings:
    """The process-wide settings; where the secret key comes from (never the key) is said on one line
    when `say_secret` or when it was generated just now.

    Refused settings end the command with pydantic's reasons alone, not a traceback of values."""
    from pydantic import ValidationError

    from services.settings import get_settings

    try:
        settings = get_settings()
    except ValidationError as error:
        reasons = "; ".join(str(problem["msg"]) for problem in error.errors())
        typer.echo(f"配置不对 configuration refused: {reasons}", err=True)
        raise typer.Exit(2) from None
    if say_secret or settings.secret_origin.startswith("generated"):
        typer.echo(f"密钥 secret key: {settings.secret_origin}", err=True)
    return settings


def run_with_backend(work: Callable[[Backend], Awaitable[T]]) -> T:
    """Run `work` against the configured database and close the engine afterwards.

    The backend is imported here, not at the top, so `jianpei --help` starts without loading it.
    """
    from services.app import build_backend
    from services.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.env)

    async def runner() -> T:
        backend = build_backend(settings)
        try:
            return await work(backend)
        finally:
            await backend.engine.dispose()

    return asyncio.run(runner())
