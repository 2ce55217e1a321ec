"""The assistant's own knobs (`JIANPEI_*`), apart from the backend's settings."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class AssistantSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIANPEI_", env_file=".env", extra="ignore")

    rasa_url: str | None = None  # an external Rasa server's base URL; its REST channel takes the messages
    backend_url: str | None = None  # where a standalone action server finds the backend
    webhook_max_bytes: int = 12 * 1024 * 1024  # a phone photo, base64 in JSON
    max_parallel_turns: int = 8
