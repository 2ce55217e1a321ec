"""`jianpei serve --port P` hands out links to itself unless JIANPEI_PUBLIC_URL says otherwise."""

from __future__ import annotations

import pytest

from bot.cli.serve import server_settings
from services.settings import Settings


def test_links_follow_the_port_the_server_listens_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIANPEI_PUBLIC_URL", raising=False)
    settings = server_settings(Settings(_env_file=None), "http://127.0.0.1:8765")  # type: ignore[call-arg]
    assert settings.public_url == "http://127.0.0.1:8765"


def test_a_configured_public_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIANPEI_PUBLIC_URL", "https://jianpei.example.cn")
    settings = server_settings(Settings(_env_file=None), "http://127.0.0.1:8765")  # type: ignore[call-arg]
    assert settings.public_url == "https://jianpei.example.cn"
