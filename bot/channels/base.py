"""What every channel shares: the message a platform hands in (`UserMessage`, owned by the runtime
that handles it) and the door out each platform opens (`OutputChannel`).

An answer is Rasa's shape, `{"text"?, "buttons"?, "image"?, "attachment"?, "custom"?}`; an output turns
it into its platform's calls. Conversations are keyed `<channel>:<platform chat id>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.runtime.assistant import UserMessage

__all__ = ["Answer", "Left", "OutputChannel", "UserMessage", "conversation_id", "split_conversation_id"]

Answer = dict[str, Any]
# Told the conversation of a trainee the platform says can no longer be reached (he blocked the bot,
# unfollowed the account): bot/handoff ends a hand-off staff would otherwise wait on.
Left = Callable[[str], Awaitable[None]]


class OutputChannel(Protocol):
    """One platform's way to speak into a chat at any time, not only in reply."""

    name: str

    async def send(self, chat_id: str, answers: list[Answer]) -> list[str]:
        """Deliver `answers` to the platform chat `chat_id`, in order; the ids the platform gave the
        messages (Telegram's message_id, WeChat's msgid, a web chat's push number), so a delivery can
        be traced. A chat that cannot be reached right now (a closed page) keeps them; only a
        platform's refusal raises."""


def conversation_id(channel: str, chat_id: str) -> str:
    return f"{channel}:{chat_id}"


def split_conversation_id(value: str) -> tuple[str, str]:
    """`telegram:42` -> ("telegram", "42"); a value without a channel is refused."""
    channel, sep, chat_id = value.partition(":")
    if not sep or not channel or not chat_id:
        raise ValueError("a conversation id is <channel>:<chat id>")
    return channel, chat_id
