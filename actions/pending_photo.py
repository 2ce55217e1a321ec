"""A checked photo waiting for 确认提交, kept as a short-lived file under the data directory instead of
in the conversation: chat history is stored for good and must never hold a face photo. The
`photo_check` slot holds only a random key; the file is named after the chat too, so a key is good
for its own chat only, and files left behind (a chat that moved on) are swept after an hour."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from pathlib import Path

MAX_AGE_SECONDS = 3600.0  # one session: a new session forgets the photo anyway
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_directory: Path | None = None


def configure(directory: Path) -> None:
    """The embedded runtime keeps pending photos under the backend's data directory."""
    global _directory
    _directory = directory


def _folder() -> Path:
    if _directory is None:
        from services.settings import get_settings

        configure(get_settings().data_dir / "pending_photos")
    assert _directory is not None
    _directory.mkdir(parents=True, exist_ok=True)
    return _directory


def _path(sender_id: str, key: str) -> Path | None:
    if not _KEY.match(key):
        return None
    chat = hashlib.sha256(sender_id.encode()).hexdigest()[:16]
    return _folder() / f"{chat}-{key}.photo"


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for stale in folder.glob("*.photo"):
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except FileNotFoundError:
            pass


def keep(sender_id: str, content: bytes) -> str:
    """Stores the photo; returns the key the slot remembers."""
    _sweep(_folder())
    key = secrets.token_urlsafe(16)
    path = _path(sender_id, key)
    assert path is not None
    path.write_bytes(content)
    return key


def take(sender_id: str, key: str) -> bytes | None:
    """The photo, removed from disk; None when it is gone (submitted, discarded or too old)."""
    _sweep(_folder())
    path = _path(sender_id, key)
    if path is None:
        return None
    try:
        content = path.read_bytes()
        path.unlink()
    except FileNotFoundError:
        return None
    return content


def drop(sender_id: str, key: str) -> None:
    path = _path(sender_id, key)
    if path is not None:
        path.unlink(missing_ok=True)
