"""The assistant's own knobs (`JIANPEI_*`), apart from the backend's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class AssistantSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIANPEI_", env_file=".env", extra="ignore")

    rasa_url: str | None = None  # an external Rasa server's base URL; its REST channel takes the messages
    rasa_nlu_url: str | None = None  # a Rasa server whose /model/parse replaces the embedded NLU only
    backend_url: str | None = None  # where a standalone action server finds the backend
    webhook_max_bytes: int = 12 * 1024 * 1024  # a phone photo, base64 in JSON
    max_parallel_turns: int = 32  # turns running at once per process; queued in arrival order beyond
    telegram_token: str | None = None  # the bot's token from @BotFather; unset: no Telegram channel
    telegram_webhook_secret: str | None = None  # sent by Telegram with every webhook delivery
    telegram_mode: Literal["webhook", "polling", "off"] = "webhook"  # how updates come in
    telegram_api_base: str | None = None  # another Bot API server (a local one); unset: Telegram's
    # messages per second over all Telegram chats: Telegram's limit is about 30; half a message
    # less leaves its one-second window room for the network's jitter
    telegram_rate: float = 29.5
    telegram_chat_rate: float = 1.0  # messages per second into one Telegram chat
    telegram_send_timeout: int = 30  # seconds a send may take before it counts as perhaps arrived
    telegram_lease_seconds: float = 120.0  # an update left unfinished this long is taken up again
    telegram_staff_chat: str | None = None  # the staff supergroup (topics on) for hand-offs; unset: none
    scheduler: Literal["auto", "off"] = "auto"  # auto: the elected process delivers notices; off: none here
    notices_every_seconds: float = 15.0  # how often the scheduler asks for due notices
    notices_batch: int = 25  # notices held at a time (a crash mid-send leaves at most these unknown)
    notices_lease_seconds: float = 120.0  # a claim older than this is marked unknown, never resent
    staff_hours: str = "08:30-17:30"  # when customer-service staff answer hand-offs, China time
    staff_days: str = "1-5"  # the weekdays they do (ISO: 1 = Monday; "1-5", "1-6", "1,3,5")
    staff_replies: Path = Path(__file__).parent / "handoff" / "replies.yml"  # 常用回复 of the console
    wechat_app_id: str | None = None  # the Official Account's AppID; unset: no WeChat channel
    wechat_app_secret: str | None = None  # its AppSecret, for the access_token
    wechat_token: str | None = None  # the Token set beside the server URL; signs every push
    wechat_aes_key: str | None = None  # EncodingAESKey (43 characters): safe mode, only encrypted pushes
    wechat_api_base: str = "https://api.weixin.qq.com"  # another API server (a test double)
    wechat_template_id: str | None = None  # a template with {{content.DATA}}, used outside 48 hours
    wechat_lease_seconds: float = 120.0  # a message left unfinished this long is taken up again
    wechat_rate: float = 20.0  # messages per second pushed to WeChat (notices, staff), over all processes
    sms_rate: float = 10.0  # notices per second handed to the SMS gateway, over all processes
