"""`jianpei wechat`: the Official Account's one-off setup (the custom menu 办理 / 我的 / 帮助). It uses
the access_token every worker shares, from the database, so it costs no extra fetch."""

from __future__ import annotations

import typer

from bot.cli.common import load_settings, run_with_backend

wechat_app = typer.Typer(help="微信公众号 / the WeChat Official Account.", no_args_is_help=True)

WEBHOOK_PATH = "/webhooks/wechat"


@wechat_app.command(
    help="创建自定义菜单（办理 / 我的 / 帮助），并显示要填到公众号后台的服务器地址 / Create the custom menu "
    "and show the server URL to enter in the Official Account's settings."
)
def setup() -> None:
    from bot.channels.wechat.channel import build_api
    from bot.channels.wechat.channel import setup as set_up
    from bot.settings import AssistantSettings
    from services.context import Backend

    settings = load_settings()
    assistant = AssistantSettings()
    if not (assistant.wechat_app_id and assistant.wechat_app_secret and assistant.wechat_token):
        typer.echo(
            "需要 JIANPEI_WECHAT_APP_ID、JIANPEI_WECHAT_APP_SECRET 和 JIANPEI_WECHAT_TOKEN / "
            "JIANPEI_WECHAT_APP_ID, _APP_SECRET and _TOKEN must be set",
            err=True,
        )
        raise typer.Exit(2)

    async def work(backend: Backend) -> None:
        assert assistant.wechat_app_id and assistant.wechat_app_secret
        api = build_api(
            app_id=assistant.wechat_app_id,
            secret=assistant.wechat_app_secret,
            api_base=assistant.wechat_api_base,
            sessions=backend.sessions,
            clock=backend.now,
        )
        try:
            await set_up(api)
        finally:
            await api.http.aclose()

    run_with_backend(work)
    mode = "安全模式 safe mode" if assistant.wechat_aes_key else "明文模式 plain mode"
    url = settings.public_url.rstrip("/") + WEBHOOK_PATH
    typer.echo(f"已创建菜单 / menu created. 服务器地址 server URL: {url} ({mode})")
