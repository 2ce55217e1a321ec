"""Settings of the documents part: who is named as training institution, how long download links live.

Read from `JIANPEI_*` environment variables (and `.env`) like the main settings.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DocumentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIANPEI_", env_file=".env", extra="ignore")

    training_institution: str = Field(
        default="吉林省建设行业继续教育培训中心",
        max_length=100,
        description="The training institution printed on e-certificates and training proofs.",
    )
    download_link_hours: int = Field(
        default=72, ge=1, le=24 * 30, description="How long a signed PDF download link stays valid."
    )


@lru_cache(maxsize=1)
def get_document_settings() -> DocumentSettings:
    return DocumentSettings()
