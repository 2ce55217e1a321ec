"""`jianpei admin broadcast`: an operator's message to an audience chosen by certificate, previewed
before anything is queued, followed while it goes out, cancelled at any time."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer

from bot.cli.common import run_with_backend

if TYPE_CHECKING:
    from services.context import Backend
    from services.notices.broadcasts import Audience

broadcast_app = typer.Typer(help="群发通知 / Operator broadcasts.", no_args_is_help=True)

STATUS = typer.Option(None, "--status", help="证书状态 正常/非正常 / certificate status")
POSITION = typer.Option(None, "--position", help="岗位，如 安全员 / position")
CATEGORY = typer.Option(None, "--category", help="专业人员/技能人员 / category")
CYCLE = typer.Option(None, "--cycle", help="培训周期（年度） / cycle year")
HOURS_LEFT = typer.Option(
    False, "--hours-left", help="只选该年度还没有学时的 / only without hours for the cycle"
)
CHINA = ZoneInfo("Asia/Shanghai")  # operators give and read times in China time
BAR = 30
FOLLOW_EVERY = 1.0  # seconds between redraws of a followed broadcast
LABELS = {
    "sent": "已发送",
    "waiting": "等待",
    "claimed": "发送中",
    "unknown": "不确定",
    "failed": "失败",
    "blocked": "被拉黑",
    "opted_out": "已退订",
    "cancelled": "已取消",
}


def _audience(
    status: str | None, position: str | None, category: str | None, cycle: int | None, hours_left: bool
) -> Audience:
    from services.notices.broadcasts import Audience

    return Audience(
        status=status, position=position, category=category, cycle_year=cycle, hours_left=hours_left
    )


def _refused(work: Any) -> Any:
    from services.errors import AppError

    try:
        return run_with_backend(work)
    except AppError as error:
        typer.echo(f"没有群发 / refused: {error.message}", err=True)
        raise typer.Exit(2) from None


def _header(found: dict[str, Any]) -> str:
    state = (
        "已取消"
        if found["cancelled"]
        else ("已完成" if found["finished"] >= found["recipients"] else "进行中")
    )
    start = found["start_at"].astimezone(CHINA)
    return f"#{found['id']} {state} {start:%Y-%m-%d %H:%M} {found['text'][:30]}"


def _bar(found: dict[str, Any]) -> str:
    filled = round(BAR * found["finished"] / max(found["recipients"], 1))
    return f"[{'#' * filled}{'.' * (BAR - filled)}] {found['finished']}/{found['recipients']}"


def _counts(found: dict[str, Any]) -> str:
    return "  ".join(f"{LABELS[k]} {n}" for k, n in found["counts"].items() if n)


def _show(found: dict[str, Any]) -> None:
    typer.echo(_header(found))
    typer.echo(_bar(found))
    typer.echo(_counts(found))


async def _summary(backend: Backend, broadcast_id: int) -> dict[str, Any]:
    from services.errors import AppError
    from services.notices import broadcasts
    from storage.models import NoticeBroadcast

    async with backend.sessions() as session:
        broadcast = await session.get(NoticeBroadcast, broadcast_id)
        if broadcast is None:
            raise AppError(404, "broadcast_not_found", f"没有编号为 {broadcast_id} 的群发")
        return broadcasts.summary(broadcast, await broadcasts.counts(session, broadcast_id))


@broadcast_app.command("preview", help="看看会发给多少人、多少个对话 / How many people and chats it reaches.")
def preview_command(
    status: str | None = STATUS,
    position: str | None = POSITION,
    category: str | None = CATEGORY,
    cycle: int | None = CYCLE,
    hours_left: bool = HOURS_LEFT,
) -> None:
    async def work(backend: Backend) -> Any:
        from services.notices import broadcasts

        async with backend.sessions() as session:
            return await broadcasts.preview(
                session, _audience(status, position, category, cycle, hours_left), backend.now()
            )

    found = _refused(work)
    typer.echo(f"{found.people} 人，{found.chats} 个对话，其中 {found.sms_only} 人只能发短信")


@broadcast_app.command("create", help="创建群发 / Queue a broadcast.")
def create_command(
    text: str = typer.Option(..., "--text", help="要发的内容 / the message"),
    start: datetime | None = typer.Option(
        None, "--start", help="开始时间（北京时间），不填就是现在 / start (China time)"
    ),
    status: str | None = STATUS,
    position: str | None = POSITION,
    category: str | None = CATEGORY,
    cycle: int | None = CYCLE,
    hours_left: bool = HOURS_LEFT,
    operator: str = typer.Option("cli", "--operator", help="操作人 / who sends it"),
) -> None:
    async def work(backend: Backend) -> dict[str, Any]:
        from services.notices import broadcasts

        request = broadcasts.BroadcastRequest(
            text=text, audience=_audience(status, position, category, cycle, hours_left), start_at=start
        )
        async with backend.transaction() as session:
            made = await broadcasts.create(session, request, operator=operator, now=backend.now())
        return await _summary(backend, made.id)

    _show(_refused(work))


@broadcast_app.command("list", help="列出群发 / List broadcasts, newest first.")
def list_command(as_json: bool = typer.Option(False, "--json")) -> None:
    async def work(backend: Backend) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from storage.models import NoticeBroadcast

        async with backend.sessions() as session:
            ids = list(
                await session.scalars(
                    select(NoticeBroadcast.id).order_by(NoticeBroadcast.id.desc()).limit(50)
                )
            )
        return [await _summary(backend, broadcast_id) for broadcast_id in ids]

    found = _refused(work)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, default=str))
        return
    for item in found:
        _show(item)


async def _follow(backend: Backend, broadcast_id: int) -> dict[str, Any]:
    """Redraw the progress until nothing waits or is being sent, or the broadcast is cancelled: in
    place on a terminal; elsewhere one line per change, so a log shows the progress, not a redraw
    per second."""
    in_place = sys.stdout.isatty()
    shown = ""
    while True:
        found = await _summary(backend, broadcast_id)
        if not shown:
            typer.echo(_header(found))
        line = f"{_bar(found)}  {_counts(found)}"
        if in_place:
            typer.echo(f"\r{line}\x1b[K", nl=False)  # back to the line's start, clear what is left
        elif line != shown:
            typer.echo(line)
        shown = line
        if found["cancelled"] or found["finished"] >= found["recipients"]:
            if in_place:
                typer.echo()
            return found
        await asyncio.sleep(FOLLOW_EVERY)


@broadcast_app.command("status", help="发送进度 / Progress: sent, waiting, failed, blocked, opted out.")
def status_command(
    broadcast_id: int = typer.Argument(..., help="群发编号 / broadcast id"),
    follow: bool = typer.Option(
        False,
        "--follow",
        "-f",
        help="每秒刷新进度，发完为止；Ctrl-C 只停止查看，不影响群发 / "
        "redraw every second until it is done; Ctrl-C stops watching, not the broadcast",
    ),
) -> None:
    if not follow:
        _show(_refused(lambda backend: _summary(backend, broadcast_id)))
        return
    try:
        found = _refused(lambda backend: _follow(backend, broadcast_id))
    except KeyboardInterrupt:
        typer.echo()
        typer.echo("已停止查看，群发照常进行 / stopped watching; the broadcast goes on", err=True)
        raise typer.Exit(130) from None
    typer.echo()
    _show(found)


@broadcast_app.command("cancel", help="取消群发，已发的保持已发 / Stop it; sent ones stay sent.")
def cancel_command(broadcast_id: int = typer.Argument(..., help="群发编号 / broadcast id")) -> None:
    async def work(backend: Backend) -> dict[str, Any]:
        from services.notices import broadcasts

        async with backend.transaction() as session:
            await broadcasts.cancel(session, broadcast_id, backend.now())
        return await _summary(backend, broadcast_id)

    _show(_refused(work))
