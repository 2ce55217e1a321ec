"""`jianpei serve`: the backend and the chat channels on one uvicorn server, in one process or in
several worker processes on one port (PostgreSQL only)."""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import typer

if TYPE_CHECKING:
    from bot.settings import AssistantSettings
    from services.settings import Settings

WORKER_STARTUP_SECONDS = 300  # how long a worker may take to import and build the app


def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 / address to listen on"),
    port: int = typer.Option(8000, help="端口 / port"),
    workers: int = typer.Option(
        1, min=1, help="工作进程数，多于 1 个需要 PostgreSQL / worker processes; more than 1 needs PostgreSQL"
    ),
) -> None:
    # The server's dependencies are imported here, so other commands start without them, and only
    # once the settings and the port are known good: a refusal is said at once, not after seconds.
    from bot.cli.common import load_settings
    from bot.settings import AssistantSettings

    taken = port_taken(host, port)
    if taken:
        typer.echo(taken, err=True)
        raise typer.Exit(1)
    base = f"http://{host}:{port}"
    settings = server_settings(load_settings(say_secret=True), base)
    assistant = AssistantSettings()
    refused = several_workers_refused(settings, assistant) if workers > 1 else None
    if refused:
        typer.echo(refused, err=True)
        raise typer.Exit(2)
    import uvicorn

    from bot.app import create_assistant_app
    from services.logging import configure_logging

    configure_logging(settings.env)
    dialogue = f"外部 Rasa external Rasa: {assistant.rasa_url}" if assistant.rasa_url else "内置 embedded"
    announce_when_up(
        base,
        "建培助手已启动 / jianpei is up:\n"
        f"  网页聊天 web chat: {base}/\n"
        f"  聊天接口 REST channel: {base}/webhooks/rest/webhook\n"
        f"  健康检查 health: {base}/health\n"
        f"  接口文档 API docs: {base}/docs\n"
        f"  OpenAPI: {base}/openapi.json\n"
        f"  对话引擎 dialogue: {dialogue}" + (f"\n  工作进程 workers: {workers}" if workers > 1 else ""),
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "timeout_keep_alive": keep_alive_seconds(settings),
        # open web chats hold a push stream each; Ctrl+C must not wait for every page to close
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        uvicorn.run(create_assistant_app(), **options)
        return
    # Each worker builds the app anew from the environment: it must see the links this one chose,
    # and find the NLU model trained (here, once) instead of training it side by side.
    os.environ["JIANPEI_PUBLIC_URL"] = settings.public_url
    if not assistant.rasa_url:
        from nlu import load_interpreter

        load_interpreter(settings.data_dir / "models", assistant.rasa_nlu_url)
    # While a worker imports and builds the app on a busy machine it can miss uvicorn's default 5 s
    # for answering the supervisor's health check, and be killed and started again, over and over.
    uvicorn.run(
        "bot.app:create_assistant_app",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
        **options,
    )


def port_taken(host: str, port: int) -> str | None:
    """Why the server cannot listen there, in the words shown to the operator; None when it can. Asked
    before anything starts, so a busy port is one clear line instead of a traceback after the banner."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            return (
                f"端口 {port} 已被占用或不能使用（{error.strerror}），换一个端口：make run PORT=8080 或 "
                f"jianpei serve --port 8080 / port {port} on {host} is in use or not allowed: choose another"
            )
    return None


def announce_when_up(base: str, banner: str, wait_seconds: float = 300.0) -> None:
    """Prints the banner once the server answers /health, never before: the URLs it lists work then."""

    def wait() -> None:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/health", timeout=2)  # any answer: /health says the rest
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            typer.echo(banner)
            return

    threading.Thread(target=wait, name="banner", daemon=True).start()


def several_workers_refused(settings: Settings, assistant: AssistantSettings) -> str | None:
    """Why these settings cannot run in several processes, in the words shown to the operator; None
    when they can. SQLite serves one process; Telegram hands its updates to one poller only (a
    second gets 409 Conflict), so several workers take them through the webhook."""
    if settings.resolved_database_url.startswith("sqlite"):
        return "多个工作进程需要 PostgreSQL（SQLite 只能由一个进程使用） / several workers need PostgreSQL"
    if assistant.telegram_token and assistant.telegram_mode == "polling":
        return (
            "多个工作进程时 Telegram 请用 webhook 模式（长轮询只能有一个进程） / "
            "several workers take Telegram updates through the webhook (JIANPEI_TELEGRAM_MODE=webhook)"
        )
    return None


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
