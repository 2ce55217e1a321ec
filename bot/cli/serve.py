"""`jianpei serve`: the backend and the chat channels on one uvicorn server."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from services.settings import Settings


def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 / address to listen on"),
    port: int = typer.Option(8000, help="端口 / port"),
) -> None:
    # The server's dependencies are imported here, so other commands start without them.
    import uvicorn

    from bot.app import create_assistant_app
    from bot.cli.common import load_settings
    from bot.settings import AssistantSettings
    from services.logging import configure_logging

    base = f"http://{host}:{port}"
    settings = server_settings(load_settings(say_secret=True), base)
    configure_logging(settings.env)
    assistant = AssistantSettings()
    dialogue = f"外部 Rasa external Rasa: {assistant.rasa_url}" if assistant.rasa_url else "内置 embedded"
    typer.echo(
        "建培助手已启动 / jianpei is up:\n"
        f"  网页聊天 web chat: {base}/\n"
        f"  聊天接口 REST channel: {base}/webhooks/rest/webhook\n"
        f"  健康检查 health: {base}/health\n"
        f"  接口文档 API docs: {base}/docs\n"
        f"  对话引擎 dialogue: {dialogue}"
    )
    uvicorn.run(
        create_assistant_app(),
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=keep_alive_seconds(settings),
        # open web chats hold a push stream each; Ctrl+C must not wait for every page to close
        timeout_graceful_shutdown=5,
    )


def keep_alive_seconds(settings: Settings) -> int:
    """How long an idle connection stays open: well above the player's heartbeat interval, so a
    learner's reports keep one connection (uvicorn's 5 s default closed them between reports, and
    under load the reconnects made reports late)."""
    return max(75, math.ceil(4 * settings.learning_heartbeat_seconds))


def server_settings(settings: Settings, base: str) -> Settings:
    """Links handed out in chat (player, PDFs) point at this server unless JIANPEI_PUBLIC_URL says
    otherwise (a proxy in front, say)."""
    if "public_url" not in settings.model_fields_set:
        settings.public_url = base
    return settings
