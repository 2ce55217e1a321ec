"""What logs call a chat. The sender id is the chat's only secret (whoever knows it can speak in
that chat), so log lines carry a short hash of it instead: enough to follow one chat's lines."""

from __future__ import annotations

import hashlib


def chat_tag(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode()).hexdigest()[:12]
