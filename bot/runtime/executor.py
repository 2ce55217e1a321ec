"""Custom actions run in-process through rasa-sdk's ActionExecutor, given the very JSON a Rasa server
would POST to an action server, so actions/ also runs unchanged under `python -m rasa_sdk`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk.executor import ActionExecutor

from bot.runtime.domain import Domain
from bot.runtime.tracker import DialogueTracker

RASA_VERSION = "3.6.20"


@dataclass
class ActionResult:
    events: list[dict[str, Any]]
    responses: list[dict[str, Any]]


class ActionRunner:
    def __init__(self, domain: Domain, package: str = "actions") -> None:
        self.domain = domain
        self.executor = ActionExecutor()
        self.executor.register_package(package)

    def knows(self, name: str) -> bool:
        return name in self.executor.actions

    async def run(self, name: str, tracker: DialogueTracker) -> ActionResult:
        call = {
            "next_action": name,
            "sender_id": tracker.sender_id,
            "tracker": tracker.state(),
            "domain": self.domain.as_dict(),
            "version": RASA_VERSION,
        }
        result = await self.executor.run(call)
        if result is None:
            return ActionResult([], [])
        return ActionResult(result.events, result.responses)
