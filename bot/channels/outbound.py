"""The one door out: anything that speaks to a trainee outside the reply to his message — a
completion notice, a reminder, a broadcast, a staff answer — sends through here, by conversation id.

Each channel registers its output once (the composition root does it); the registry only routes."""

from __future__ import annotations

from bot.channels.base import Answer, OutputChannel, split_conversation_id
from bot.channels.pace import SharedPace


class UnknownChannel(LookupError):
    """No output is registered for the conversation's channel (its settings were not given)."""


class Outbound:
    def __init__(self) -> None:
        self._outputs: dict[str, OutputChannel] = {}
        self._paces: dict[str, SharedPace] = {}

    def register(self, output: OutputChannel, pace: SharedPace | None = None) -> None:
        """`pace`: the platform's rate kept over every process (one answer, one message)."""
        self._outputs[output.name] = output
        if pace is not None:
            self._paces[output.name] = pace

    async def send(self, conversation: str, answers: list[Answer]) -> list[str]:
        """Send `answers` to the chat `conversation` (`<channel>:<chat id>`); the platform's ids of
        the messages sent."""
        channel, chat_id = split_conversation_id(conversation)
        output = self._outputs.get(channel)
        if output is None:
            raise UnknownChannel(channel)
        if not answers:
            return []
        pace = self._paces.get(channel)
        if pace is not None:
            await pace.wait(len(answers))
        return await output.send(chat_id, answers)
