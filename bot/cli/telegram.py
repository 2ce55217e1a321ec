"""`jianpei telegram`: the bot's one-off setup (the webhook and the Chinese command menu) and long
polling. Setting the webhook is a command, not something every worker does when it starts."""

from __future__ import annotations

import asyncio
import contextlib

import typer

from bot.cli.common import load_settings

telegram_app = typer.Typer(help="Telegram 机器人 / the Telegram bot.", no_args_is_help=True)

WEBHOOK_PATH = "/webhooks/telegram"


@telegram_app.command(
    help="设置Webhook和中文命令菜单（轮询模式下删除Webhook） / Set the webhook and the Chinese command menu "
    "(in polling mode: remove the webhook)."
)
def setup(
    url: str = typer.Option(
        "", help="Webhook地址，默认 JIANPEI_PUBLIC_URL + /webhooks/telegram / the webhook URL"
    ),
) -> None:
    from bot.channels.telegram.channel import make_bot
    from bot.channels.telegram.channel import setup as set_up
    from bot.settings import AssistantSettings

    settings = load_settings()
    assistant = AssistantSettings()
    if not assistant.telegram_token:
        typer.echo("没有设置 JIANPEI_TELEGRAM_TOKEN / JIANPEI_TELEGRAM_TOKEN is not set", err=True)
        raise typer.Exit(2)
    webhook = None
    if assistant.telegram_mode == "webhook":
        webhook = url or settings.public_url.rstrip("/") + WEBHOOK_PATH
        if not assistant.telegram_webhook_secret:
            typer.echo(
                "Webhook模式需要 JIANPEI_TELEGRAM_WEBHOOK_SECRET / webhook mode needs a secret", err=True
            )
            raise typer.Exit(2)

    async def work() -> None:
        assert assistant.telegram_token is not None
        bot = make_bot(assistant.telegram_token, assistant.telegram_api_base)
        try:
            await set_up(bot, webhook, assistant.telegram_webhook_secret)
        finally:
            await bot.session.close()

    asyncio.run(work())
    where = f"Webhook: {webhook}" if webhook else "没有Webhook，用长轮询 / no webhook: long polling"
    typer.echo(f"已设置命令菜单 / command menu set. {where}")


@telegram_app.command(
    help="用长轮询接收消息（开发用，或服务器没有公网地址时；只在一个进程里运行） / Receive updates by "
    "long polling (development, or no public URL; run it in one process only)."
)
def poll() -> None:
    from bot.app import create_assistant_app
    from bot.settings import AssistantSettings
    from services.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.env)
    assistant = AssistantSettings(telegram_mode="polling")
    if not assistant.telegram_token:
        typer.echo("没有设置 JIANPEI_TELEGRAM_TOKEN / JIANPEI_TELEGRAM_TOKEN is not set", err=True)
        raise typer.Exit(2)
    app = create_assistant_app(settings=assistant)

    async def work() -> None:
        async with app.router.lifespan_context(app):
            await asyncio.Event().wait()  # until Ctrl-C

    typer.echo("正在长轮询Telegram，按 Ctrl-C 停止 / polling Telegram, Ctrl-C stops")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(work())
