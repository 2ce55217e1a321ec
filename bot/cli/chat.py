"""`jianpei chat`: the assistant in a terminal, on the configured database (or a running server).

Buttons are shown numbered; typing the number presses it. `/photo FILE` sends a photo.
"""

from __future__ import annotations

import asyncio
import base64
import getpass
import logging
import tempfile
from pathlib import Path
from typing import Any

import httpx
import typer

PHOTO_COMMAND = "/photo "


def _image_path(image: str) -> str:
    """A photo sent inline (a data URL) is written to a file the trainee can open."""
    if not image.startswith("data:"):
        return image
    header, _, content = image.partition(",")
    suffix = ".png" if "png" in header else ".jpg"
    with tempfile.NamedTemporaryFile(prefix="jianpei-", suffix=suffix, delete=False) as out:
        out.write(base64.b64decode(content))
    return out.name


def _show(answers: list[dict[str, Any]]) -> list[dict[str, str]]:
    buttons: list[dict[str, str]] = []
    for answer in answers:
        if answer.get("text"):
            typer.echo(f"助手: {answer['text']}")
        if answer.get("image"):
            typer.echo(f"助手: [图片] {_image_path(str(answer['image']))}")
        attachment = answer.get("attachment")
        if attachment:
            link = attachment.get("url", attachment) if isinstance(attachment, dict) else attachment
            typer.echo(f"助手: [文件] {link}")
        for button in answer.get("buttons") or []:
            buttons.append(button)
            typer.echo(f"  [{len(buttons)}] {button['title']}")
    return buttons


def _message(line: str, buttons: list[dict[str, str]]) -> dict[str, Any] | None:
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return {"message": buttons[int(line) - 1]["payload"]}
    if line.startswith(PHOTO_COMMAND):
        path = Path(line[len(PHOTO_COMMAND) :].strip()).expanduser()
        if not path.is_file():
            typer.echo(f"找不到文件 {path}")
            return None
        content = base64.b64encode(path.read_bytes()).decode()
        return {"message": "", "metadata": {"attachment": {"filename": path.name, "content_base64": content}}}
    return {"message": line}


async def _loop(http: httpx.AsyncClient, sender: str) -> None:
    buttons: list[dict[str, str]] = []
    first = {"message": "/greet"}
    pending: dict[str, Any] | None = first
    while True:
        if pending is not None:
            response = await http.post("/webhooks/rest/webhook", json={"sender": sender, **pending})
            if response.status_code != 200:
                typer.echo(f"出错了：{response.text}")
            else:
                buttons = _show(response.json()) or buttons  # the last buttons shown stay pressable
        try:
            line = (await asyncio.to_thread(input, "您: ")).strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if line in {"/quit", "/exit"}:
            return
        pending = _message(line, buttons)


def chat(
    url: str = typer.Option(
        "", help="连接正在运行的服务，例如 http://127.0.0.1:8000 / talk to a running server"
    ),
    sender: str = typer.Option(
        "", help="会话标识（默认按用户名） / conversation id (default: from the user name)"
    ),
) -> None:
    """在终端里和助手聊天：输入数字按按钮，/photo 文件 发照片，/quit 退出。

    Chat with the assistant in a terminal: a number presses a button, /photo FILE sends a photo."""
    # The assistant (NLU, backend) is imported here, so other commands start without it.
    from bot.app import create_assistant_app
    from services.logging import configure_logging
    from services.settings import get_settings

    settings = get_settings()
    configure_logging(settings.env, level=logging.WARNING)
    who = sender or f"terminal-{getpass.getuser()}"

    async def run() -> None:
        if url:
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                await _loop(http, who)
            return
        app = create_assistant_app()
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=settings.public_url, timeout=60) as http,
        ):
            await _loop(http, who)

    asyncio.run(run())
