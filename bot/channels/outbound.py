"""The one door out: anything that speaks to a trainee outside the reply to his message — a
completion notice, a reminder, a broadcast, a staff answer — sends through here, by conversation id.

Each channel registers its output once (the composition root does it); the registry only routes."""

from __future__ import annotations

from bot.channels.base import Answer, OutputChannel, split_conversation_id


class UnknownChannel(LookupError):
    """No output is registered for the conversation's channel (its settings were not given)."""


class Outbound:
    def __init__(self) -> None:
        self._outputs: dict[str, OutputChannel] = {}

    def register(self, output: OutputChannel) -> None:
        self._outputs[output.name] = output

    async def send(self, conversation: str, answers: list[Answer]) -> list[str]:
        """Send `answers` to the chat `conversation` (`<channel>:<chat id>`); the platform's ids of
        the messages sent."""
        channel, chat_id = split_conversation_id(conversation)
        output = self._outputs.get(channel)
        if output is None:
            raise UnknownChannel(channel)
        if not answers:
            return []
        return await output.send(chat_id, answers)
