"""Documents tests: the public URL is the test client's host, so links in PDFs can be followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.settings import Settings
from tests.conftest import ADMIN_TOKEN

PUBLIC_URL = "http://jianpei.test"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "var",
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret",
        public_url=PUBLIC_URL,
        _env_file=None,  # type: ignore[call-arg]
    )
