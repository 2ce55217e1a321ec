"""`jianpei --help` and light commands start without loading the heavy parts of the assistant."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "cv2", "reportlab", "fastapi", "sqlalchemy", "rasa_sdk", "jieba", "uvicorn")


def test_the_command_line_loads_engines_only_in_the_commands_that_need_them() -> None:
    probe = f"import json, sys, bot.cli; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout) == []
