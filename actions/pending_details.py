"""The ID number and phone a trainee typed, waiting for the turn that uses them (registering, the SMS
code), kept as a short-lived file under the data directory instead of in the conversation: chat
history is stored for good, and the two together log in (the initial password is the phone). The
slots hold their masks only. One file per chat, readable by the service alone, removed when the
chat is bound or the details are refused, and swept two hours after its last use (a chat that
moved on: its session, and so its slots, ended after one idle hour)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

MAX_AGE_SECONDS = 7200.0
_directory: Path | None = None


def configure(directory: Path) -> None:
    """The embedded runtime keeps pending details under the backend's data directory."""
    global _directory
    _directory = directory


def _folder() -> Path:
    if _directory is None:
        from services.settings import get_settings

        configure(get_settings().data_dir / "pending_details")
    assert _directory is not None
    _directory.mkdir(parents=True, exist_ok=True)
    return _directory


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for stale in folder.glob("*.json"):
        with contextlib.suppress(FileNotFoundError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


def _path(sender_id: str) -> Path:
    folder = _folder()
    _sweep(folder)
    return folder / f"{hashlib.sha256(sender_id.encode()).hexdigest()[:32]}.json"


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def keep(sender_id: str, slot: str, value: str) -> None:
    path = _path(sender_id)
    data = {**_read(path), slot: value}
    fresh = path.with_suffix(".tmp")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(data, file, ensure_ascii=False)
    fresh.replace(path)


def recall(sender_id: str, slot: str) -> str | None:
    """The value kept for the slot; using it keeps the file another two hours."""
    path = _path(sender_id)
    value = _read(path).get(slot)
    if value is not None:
        with contextlib.suppress(FileNotFoundError):
            path.touch()
    return value if isinstance(value, str) else None


def forget(sender_id: str) -> None:
    _path(sender_id).unlink(missing_ok=True)
