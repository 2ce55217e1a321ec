"""`jianpei scheduler`: the notice scheduler alone, without an HTTP server, for deployments whose
web workers run with JIANPEI_SCHEDULER=off. It competes for the same leader lock as a server's
scheduler, so one beside servers that still run theirs is safe: exactly one of them sends."""

from __future__ import annotations

import asyncio
import signal

import typer


def scheduler() -> None:
    # The assistant's dependencies are imported here, so other commands start without them.
    from bot.app import create_assistant_app
    from bot.cli.common import load_settings
    from bot.settings import AssistantSettings
    from services.app import build_backend
    from services.logging import configure_logging

    settings = load_settings(say_secret=True)
    configure_logging(settings.env)
    # Telegram updates and WeChat pushes are the servers' work; this process only sends.
    assistant = AssistantSettings(scheduler="off", telegram_mode="off")

    async def run() -> None:
        app = create_assistant_app(build_backend(settings), assistant)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        notices = app.state.scheduler
        notices.start()
        typer.echo(
            "通知调度已启动（持有领导锁时发送）/ the notice scheduler is running "
            f"(it sends while it holds the leader lock), every {notices.every_seconds:g} s",
            err=True,
        )
        await stop.wait()
        await notices.stop()
        for channel in (app.state.telegram, app.state.wechat):
            if channel is not None:
                await channel.stop()
        await app.state.backend.engine.dispose()

    asyncio.run(run())
