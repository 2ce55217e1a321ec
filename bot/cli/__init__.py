"""The `jianpei` command line (typer). Every command has --help in Chinese and English."""

from __future__ import annotations

import typer

from bot.cli.actions import actions_server
from bot.cli.admin import admin_app
from bot.cli.chat import chat
from bot.cli.db import db_app
from bot.cli.nlu import nlu_app
from bot.cli.photo import photo_app
from bot.cli.scheduler import scheduler
from bot.cli.serve import serve
from bot.cli.telegram import telegram_app
from bot.cli.wechat import wechat_app

app = typer.Typer(
    help="建培助手 jianpei：证书换发与继续教育助手 / certificate renewal and continuing-education assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals hold secrets, tokens and personal data
)
app.command(help="启动服务（后台接口与网页聊天） / Start the server (backend API and web chat).")(serve)
app.command(
    help="只运行通知调度：学完通知、提醒、群发（网页进程设 JIANPEI_SCHEDULER=off 时用） / "
    "Run only the notice scheduler: completion notices, reminders, broadcasts (for servers run with "
    "JIANPEI_SCHEDULER=off)."
)(scheduler)
app.command(help="在终端里和助手聊天 / Chat with the assistant in a terminal.")(chat)
app.command(
    "actions",
    help="单独运行动作服务（给外部 Rasa 用） / Run the actions as an action server for an external Rasa.",
)(actions_server)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(photo_app, name="photo")
app.add_typer(nlu_app, name="nlu")
app.add_typer(telegram_app, name="telegram")
app.add_typer(wechat_app, name="wechat")


def main() -> None:
    app()
