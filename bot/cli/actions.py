"""`jianpei actions`: our actions as a standalone rasa-sdk action server, for an external Rasa
server. The composition root of that process: it hands the actions the backend's URL and the
service key derived from this installation's secret, so nothing needs copying by hand. rasa-sdk
serves from worker processes that import the actions afresh, so they travel in their environment
(`JIANPEI_BACKEND_URL`, `JIANPEI_SERVICE_KEY`, and the Telegram token from `.env` too), the way
`python -m rasa_sdk` is configured."""

from __future__ import annotations

import typer


def actions_server(
    port: int = typer.Option(5055, help="端口 / port the action server listens on"),
) -> None:
    import os

    from rasa_sdk.endpoint import run
    from rasa_sdk.executor import ActionExecutor

    from bot.cli.common import load_settings
    from bot.settings import AssistantSettings
    from services.chatlinks.keys import service_key

    settings = load_settings(say_secret=True)
    assistant = AssistantSettings()
    base_url = assistant.backend_url or settings.public_url
    os.environ["JIANPEI_BACKEND_URL"] = base_url
    os.environ["JIANPEI_SERVICE_KEY"] = service_key(settings.secret_key)
    # The Telegram link action asks getMe for the bot's name; the token may be in .env only.
    for name, value in (
        ("JIANPEI_TELEGRAM_TOKEN", assistant.telegram_token),
        ("JIANPEI_TELEGRAM_API_BASE", assistant.telegram_api_base),
    ):
        if value:
            os.environ[name] = value
    executor = ActionExecutor()
    executor.register_package("actions")
    typer.echo(f"动作服务 action server: http://0.0.0.0:{port}/webhook -> 后台 backend {base_url}")
    run(executor, port=port)
