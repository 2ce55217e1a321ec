"""`jianpei serve`: the backend and the chat channels on one uvicorn server."""

from __future__ import annotations

import typer
import uvicorn

from services.app import create_app
from services.logging import configure_logging
from services.settings import get_settings


def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 / address to listen on"),
    port: int = typer.Option(8000, help="端口 / port"),
) -> None:
    settings = get_settings()
    configure_logging(settings.env)
    base = f"http://{host}:{port}"
    typer.echo(
        f"建培助手已启动 / jianpei is up:\n  健康检查 health: {base}/health\n  接口文档 API docs: {base}/docs"
    )
    uvicorn.run(create_app(), host=host, port=port, log_level="info")
