"""The rooms of DESIGN.md hold: `lint-imports` (run by `make lint`) keeps every contract on the code as
it is, and breaks the right one when an upward import is added — checked on a copy of the sources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rules", "storage", "services", "nlu", "actions", "bot")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _copy_sources(into: Path) -> None:
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            target = into / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    shutil.copyfile(ROOT / "pyproject.toml", into / "pyproject.toml")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_code_keeps_every_room_contract(tmp_path: Path) -> None:
    _copy_sources(tmp_path)
    result = _lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_an_upward_import_breaks_its_contract(tmp_path: Path) -> None:
    _copy_sources(tmp_path)
    clock = tmp_path / "services" / "clock.py"
    clock.write_text(clock.read_text(encoding="utf-8") + "\nimport bot.app  # noqa\n", encoding="utf-8")
    storage_db = tmp_path / "storage" / "db.py"
    storage_db.write_text(
        storage_db.read_text(encoding="utf-8") + "\nimport services.app  # noqa\n", encoding="utf-8"
    )
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "services: the backend knows nothing of chat BROKEN" in result.stdout
    assert "storage: models and migrations import nothing above them BROKEN" in result.stdout
    assert "rules: pure domain rules import nothing of the project KEPT" in result.stdout
