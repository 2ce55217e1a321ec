"""Text a platform hands in, made safe to store: every channel keys chats by the sender and keeps the
message in PostgreSQL, which refuses NUL characters, and JSON that cannot hold lone surrogates.

A sender is an identity: one that is not plain text is refused, never altered into someone else's.
A message is what a person typed: characters no text can hold are dropped or replaced, and the
assistant answers the rest as usual.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls except tab and line breaks, lone surrogates (U+D800-U+DFFF) and non-characters
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def plain_sender(value: str) -> str:
    """`value` unchanged when it is printable text; otherwise a Chinese refusal (a 422)."""
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ValueError("发送人里有无法识别的字符")
    return value


def storable_message(value: str | None) -> str | None:
    """`value` with lone surrogates shown as � and control characters (NUL included) dropped."""
    if value is None:
        return None
    return _UNSTORABLE.sub(lambda found: "\ufffd" if "\ud800" <= found[0] <= "\udfff" else "", value)
