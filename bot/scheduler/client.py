"""The scheduler's way to the backend: HTTP with the service key, like the actions, with a typed
client of its own (bot/ does not import the backend nor the actions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "/api/assistant/notices"


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    params: dict[str, Any]
    claim_token: str
    chats: list[str]
    has_phone: bool
    broadcast_id: int | None = None


@dataclass(frozen=True)
class Result:
    """What delivering a claimed notice came to: sent, failed, blocked, cancelled, or unknown (no
    answer came for a send)."""

    notice: Claimed
    state: str
    message_ids: list[str] = field(default_factory=list)
    detail: str | None = None


class StaleClaim(Exception):
    """The backend no longer holds this notice for us (another result was recorded)."""


class NoticesClient:
    def __init__(self, http: httpx.AsyncClient, service_key: str) -> None:
        self.http = http
        self._headers = {"Authorization": f"Bearer {service_key}"}

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(f"{BASE}{path}", json=body or {}, headers=self._headers)
        if response.status_code == 409:
            raise StaleClaim(path)
        response.raise_for_status()
        return response.json()

    async def due(self) -> int:
        """Run the reminder rules; the number of notices they recorded now."""
        return int((await self._post("/due"))["recorded"])

    async def claim(self, limit: int, lease_seconds: float) -> list[Claimed]:
        found = await self._post("/claim", {"limit": limit, "lease_seconds": lease_seconds})
        return [Claimed(**item) for item in found]

    async def results(self, results: list[Result]) -> set[int]:
        """Record many deliveries' results at once; the ids whose claim was no longer ours."""
        body = [
            {
                "id": result.notice.id,
                "claim_token": result.notice.claim_token,
                "state": result.state,
                "message_ids": result.message_ids,
                "detail": result.detail,
            }
            for result in results
        ]
        return set((await self._post("/results", {"results": body}))["stale"])

    async def cancelled(self, broadcast_ids: set[int]) -> set[int]:
        """Which of these broadcasts the operator cancelled."""
        found = await self._post("/cancelled", {"broadcast_ids": sorted(broadcast_ids)})
        return {int(broadcast_id) for broadcast_id in found["cancelled"]}

    async def sms(self, notice: Claimed, text: str) -> str:
        """Deliver by the backend's SMS gateway; the state it came to (sent, or failed: no phone)."""
        done = await self._post(f"/{notice.id}/sms", {"claim_token": notice.claim_token, "text": text})
        return str(done["state"])
