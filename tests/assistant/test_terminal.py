"""`jianpei chat`: the assistant in a terminal, on the configured database, buttons by number."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from services.context import Backend

ROOT = Path(__file__).resolve().parents[2]


async def test_terminal_chat_answers_typed_text_and_numbered_buttons(
    backend: Backend, nlu_data_dir: Path, interpreter: object
) -> None:
    env = {
        **os.environ,
        "JIANPEI_DATABASE_URL": backend.engine.url.render_as_string(hide_password=False),
        "JIANPEI_DATA_DIR": str(nlu_data_dir),
        "JIANPEI_ENV": "test",
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "chat", "--sender", "terminal-test"),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    typed = "客服电话多少\n4\n2\n/quit\n"  # greeting button 4 = 常见问题, then its button 2 = 照片要求
    out, err = await asyncio.wait_for(process.communicate(typed.encode()), timeout=120)
    text = out.decode()
    assert process.returncode == 0, err.decode()[-2000:]
    assert "助手: 您好，我是建培助手" in text
    assert "  [4] 常见问题" in text
    assert "4009999355" in text
    assert "照片要求：本人近三个月" in text
