"""`jianpei serve --workers N` runs several processes only where they can share the work: SQLite is
one process's database, and Telegram gives its updates to one long poller only."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.assistant.test_serve_process import JIANPEI, environment


def serve_workers(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JIANPEI), "serve", "--workers", "2", "--port", "0"],
        cwd=data_dir.parent,
        env={**environment(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_several_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    started = serve_workers(tmp_path / "var")
    assert started.returncode == 2
    assert "多个工作进程需要 PostgreSQL" in started.stderr


def test_several_workers_polling_telegram_are_refused_with_the_way_out(
    tmp_path: Path, postgres_url: str
) -> None:
    started = serve_workers(
        tmp_path / "var",
        JIANPEI_DATABASE_URL=postgres_url,
        JIANPEI_TELEGRAM_TOKEN="123456:test-token",
        JIANPEI_TELEGRAM_MODE="polling",
    )
    assert started.returncode == 2
    assert "JIANPEI_TELEGRAM_MODE=webhook" in started.stderr
