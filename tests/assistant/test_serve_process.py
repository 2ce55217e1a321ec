"""`jianpei` as a user runs it: real subprocesses of the installed command, a fresh data directory, no
JIANPEI_* settings but the data directory. Checks the secret key a first start makes and what the
server's log may never hold."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from nlu import Interpreter
from services.documents.links import download_link
from services.settings import DEV_SECRET_KEY, Settings
from tests.assistant.test_action_server import free_port
from tests.served import until_healthy

JIANPEI = Path(sys.executable).parent / "jianpei"
ADMIN_TOKEN = "process-admin-token"


def environment(data_dir: Path) -> dict[str, str]:
    kept = {key: value for key, value in os.environ.items() if not key.startswith("JIANPEI_")}
    return {**kept, "JIANPEI_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JIANPEI), *args],
        cwd=data_dir.parent,  # no .env of the project's folder is read
        env={**environment(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def data_dir(tmp_path: Path, nlu_data_dir: Path, interpreter: Interpreter) -> Path:
    """A fresh data directory, with only the NLU model trained once for the run (not a secret)."""
    fresh = tmp_path / "var"
    fresh.mkdir()
    (fresh / "models").symlink_to(nlu_data_dir / "models", target_is_directory=True)
    assert interpreter.version
    return fresh


@asynccontextmanager
async def jianpei_serve(data_dir: Path, log: Path, **env: str) -> AsyncIterator[str]:
    """`jianpei serve` on a free port until the block ends; everything it prints goes to `log`."""
    port = free_port()
    with log.open("a") as output:
        process = await asyncio.create_subprocess_exec(
            *(str(JIANPEI), "serve", "--port", str(port)),
            cwd=data_dir.parent,
            env={**environment(data_dir), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def signs_with(url: str, secret: str) -> bool:
    """Whether the server takes a download link signed with `secret`: an expired one answers 410
    once its signature is good, 404 bad_link when it is not."""
    settings = Settings(env="test", secret_key=secret, _env_file=None)  # type: ignore[call-arg]
    past = datetime(2020, 1, 1, tzinfo=UTC)
    link = download_link(settings, kind="ecert", document_id=1, now=past, lifetime=timedelta(minutes=1))
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.get(urlsplit(link.url).path)
    assert answer.status_code in (404, 410), answer.text
    return answer.status_code == 410


async def test_a_first_start_keeps_a_private_secret_and_every_later_start_uses_it(data_dir: Path) -> None:
    upgraded = run(data_dir, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    secret_file = data_dir / "secret_key"
    assert f"generated into {secret_file}" in upgraded.stderr
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32 and secret not in upgraded.stdout + upgraded.stderr

    log = data_dir.parent / "serve.log"
    for _start in range(2):
        async with jianpei_serve(data_dir, log) as url:
            assert await signs_with(url, secret)
            assert not await signs_with(url, DEV_SECRET_KEY)
        assert secret_file.read_text().strip() == secret
    printed = log.read_text()
    assert printed.count(f"secret key: kept in {secret_file}") == 2
    assert secret not in printed


def test_the_public_default_secret_is_refused_outside_tests(data_dir: Path) -> None:
    for env in ("dev", "prod"):
        refused = run(data_dir, "db", "upgrade", JIANPEI_SECRET_KEY=DEV_SECRET_KEY, JIANPEI_ENV=env)
        assert refused.returncode == 2
        assert "is public and refused" in refused.stderr and "Traceback" not in refused.stderr
    assert not (data_dir / "secret_key").exists()
    allowed = run(data_dir, "db", "upgrade", JIANPEI_SECRET_KEY=DEV_SECRET_KEY, JIANPEI_ENV="test")
    assert allowed.returncode == 0, allowed.stderr


async def test_the_server_log_holds_no_chat_id_token_or_signed_link(data_dir: Path) -> None:
    assert run(data_dir, "db", "upgrade").returncode == 0
    assert run(data_dir, "admin", "demo-data").returncode == 0
    log = data_dir.parent / "serve.log"
    sender = "web-Zq8secretchat41"
    async with (
        jianpei_serve(data_dir, log, JIANPEI_ADMIN_TOKEN=ADMIN_TOKEN) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        for message in ("/greet", "/certificate_status", "我要续期", "/upload_photo", "/menu"):
            answered = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
            assert answered.status_code == 200, answered.text
        ticket = "eyJwIjoxLCJlIjoxLCJ4IjoxfQ.c2lnbmF0dXJlLXBhcnQ"
        await http.get(f"/downloads/{ticket}")
        await http.get(f"/learning/player?ticket={ticket}")
        await http.post("/api/learning/player-links/redeem", json={"ticket": ticket})
    printed = log.read_text()
    assert "jianpei is up" in printed and "/openapi.json" in printed
    for secret in (sender, "Zq8secretchat41", ticket, ticket.split(".")[1], ADMIN_TOKEN):
        assert secret not in printed, re.findall(rf".*{re.escape(secret)}.*", printed)[:3]


def test_a_busy_port_is_one_clear_line_before_anything_starts(data_dir: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        refused = run(data_dir, "serve", "--port", str(port))
    assert refused.returncode == 1
    assert f"端口 {port} 已被占用" in refused.stderr and "PORT=8080" in refused.stderr, refused.stderr
    assert "jianpei is up" not in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
