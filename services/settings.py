"""All configuration of jianpei, read once from `JIANPEI_*` environment variables (and `.env`).

One settings object keeps the knobs discoverable: every field here is documented in README.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - refused in prod by the validator below


class Settings(BaseSettings):
    """Runtime configuration; test-only switches are refused when `env` is `prod`."""

    model_config = SettingsConfigDict(env_prefix="JIANPEI_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; a SQLite file under data_dir when unset."
    )
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        description="Signs download links and hashes verification codes; set a long random value in prod.",
    )
    admin_token: str | None = None

    # accounts
    session_hours: int = 12
    max_login_failures: int = 5
    lockout_minutes: int = 15

    # SMS verification codes
    sms_code_ttl_seconds: int = 300
    sms_code_max_attempts: int = 5
    sms_resend_seconds: int = 60
    sms_daily_codes_per_phone: int = 10

    # photos kept by the management system before the photo checks land
    registry_photo_max_bytes: int = 80 * 1024

    # request bodies
    max_json_bytes: int = 64 * 1024

    # NLU: parse through this Rasa server's /model/parse instead of the embedded engine
    rasa_url: str | None = None

    # continuing education (继续教育平台): yearly hours, assessment, no-skip heartbeats
    learning_required_hours: float = Field(default=32, gt=0)
    learning_professional_hours: float = Field(default=22, ge=0)
    learning_general_hours: float = Field(default=10, ge=0)
    learning_pass_mark: int = Field(default=60, ge=1, le=100)
    learning_paper_size: int = Field(default=10, ge=1, le=100)
    learning_retry_cooldown_minutes: int = Field(default=30, ge=0)
    learning_heartbeat_seconds: float = Field(default=5, gt=0, le=60)
    learning_heartbeat_tolerance_seconds: float = Field(default=2, ge=0, le=30)
    learning_time_scale: float = Field(
        default=1, ge=1, le=1000, description="Test-only: credit watch time this many times faster."
    )
    learning_institution: str = "吉林省建设行业继续教育平台"

    @model_validator(mode="after")
    def _refuse_insecure_prod(self) -> Settings:
        if self.env == "prod" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError("JIANPEI_SECRET_KEY must be set in prod")
        if self.env == "prod" and self.learning_time_scale != 1:
            raise ValueError("JIANPEI_LEARNING_TIME_SCALE is for tests only and refused in prod")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite default under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'jianpei.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings()
