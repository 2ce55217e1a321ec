"""`jianpei serve`: the backend and the chat channels on one uvicorn server."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 / address to listen on"),
    port: int = typer.Option(8000, help="端口 / port"),
) -> None:
    # The server's dependencies are imported here, so other commands start without them.
    import uvicorn

    from bot.app import create_assistant_app
    from bot.settings import AssistantSettings
    from services.logging import configure_logging
    from services.settings import get_settings

    settings = get_settings()
    configure_logging(settings.env)
    assistant = AssistantSettings()
    base = f"http://{host}:{port}"
    dialogue = f"外部 Rasa external Rasa: {assistant.rasa_url}" if assistant.rasa_url else "内置 embedded"
    typer.echo(
        "建培助手已启动 / jianpei is up:\n"
        f"  网页聊天 web chat: {base}/\n"
        f"  聊天接口 REST channel: {base}/webhooks/rest/webhook\n"
        f"  健康检查 health: {base}/health\n"
        f"  接口文档 API docs: {base}/docs\n"
        f"  对话引擎 dialogue: {dialogue}"
    )
    uvicorn.run(create_assistant_app(), host=host, port=port, log_level="warning")
