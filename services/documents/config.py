"""Settings of the documents part: how long download links live.

Read from `JIANPEI_*` environment variables (and `.env`) like the main settings; the institution
printed on documents is the main settings' `learning_institution` (JIANPEI_LEARNING_INSTITUTION).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DocumentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIANPEI_", env_file=".env", extra="ignore")

    download_link_hours: int = Field(
        default=72, ge=1, le=24 * 30, description="How long a signed PDF download link stays valid."
    )


@lru_cache(maxsize=1)
def get_document_settings() -> DocumentSettings:
    return DocumentSettings()
