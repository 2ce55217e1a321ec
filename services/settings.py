"""All configuration of jianpei, read once from `JIANPEI_*` environment variables (and `.env`).

One settings object keeps the knobs discoverable: every field here is documented in README.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The value the project once shipped as its default: public, so refused everywhere but in tests.
DEV_SECRET_KEY = "dev-secret-change-me"  # noqa: S105
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name under data_dir, not a secret


class Settings(BaseSettings):
    """Runtime configuration; test-only switches are refused when `env` is `prod`."""

    model_config = SettingsConfigDict(env_prefix="JIANPEI_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; a SQLite file under data_dir when unset."
    )
    # PostgreSQL connections a process may open: its pool, and beyond it for a burst. Every worker,
    # scheduler and command opens its own: keep their sum below the server's max_connections.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(
        default="",
        description="Signs links, tickets and the assistant's service key, and keys SMS code hashes; when "
        "unset, a random one is generated once and kept in data_dir/secret_key. Required in prod.",
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
    max_csv_bytes: int = 32 * 1024 * 1024  # the authority's certificate CSV: about 350,000 rows
    # a body not complete this long after its headers is cut off with 408 (slow-body clients)
    request_body_timeout_seconds: float = Field(default=60, gt=0, le=3600)

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

    # notices: China-time hours in which nothing is sent ("21:00-08:00"; empty: none)
    notices_quiet_hours: str = Field(
        default="21:00-08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$|^$"
    )

    _key_origin: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _refuse_insecure_prod(self) -> Settings:
        if self.env == "prod" and self.learning_time_scale != 1:
            raise ValueError("JIANPEI_LEARNING_TIME_SCALE is for tests only and refused in prod")
        return self

    @model_validator(mode="after")
    def _resolve_secret_key(self) -> Settings:
        """Resolved here, not where it is used, so every command and every settings object built on
        the same data directory signs with the same key, and none can sign with an empty or public one."""
        if self.secret_key == DEV_SECRET_KEY and self.env != "test":
            raise ValueError(
                f"JIANPEI_SECRET_KEY={DEV_SECRET_KEY} is public and refused; unset it to have one generated"
            )
        if self.secret_key:
            self._key_origin = "from JIANPEI_SECRET_KEY"
            return self
        if self.env == "prod":
            raise ValueError("JIANPEI_SECRET_KEY must be set in prod (the same value on every server)")
        path = self.data_dir.resolve() / SECRET_KEY_FILE
        created = _keep_secret(path)
        self.secret_key = path.read_text(encoding="ascii").strip()
        if len(self.secret_key) < 32:
            raise ValueError(f"{path} holds no usable secret key; delete it to have a new one generated")
        self._key_origin = f"{'generated into' if created else 'kept in'} {path}"
        return self

    @property
    def secret_origin(self) -> str:
        """Where the secret key came from, for the start-up line (never the key itself)."""
        return self._key_origin

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite default under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'jianpei.sqlite3').resolve()}"


def _keep_secret(path: Path) -> bool:
    """Write a new random key to `path` (mode 0600) unless one is there; True when written now.

    The key is written to a private temporary file and linked into place, so two commands starting
    at once agree on one key and neither reads a half-written file."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings()
