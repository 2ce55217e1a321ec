"""Parsing through an external Rasa server (`JIANPEI_RASA_URL`): same answer shape as the engine."""

from __future__ import annotations

from typing import Any

import httpx


class RasaServerError(RuntimeError):
    """The Rasa server did not answer a parse request usably."""


def _shape(text: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Keep the /model/parse fields the assistant relies on, with the defaults Rasa omits."""
    intent = answer.get("intent") or {}
    return {
        "text": answer.get("text", text),
        "intent": {"name": intent.get("name"), "confidence": float(intent.get("confidence") or 0.0)},
        "entities": list(answer.get("entities") or []),
        "intent_ranking": list(answer.get("intent_ranking") or []),
    }


class RasaServerInterpreter:
    """POSTs to `<url>/model/parse`; `version` is the server's model, as its /status said at load."""

    def __init__(
        self, url: str, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.version = "unknown"
        self._client = httpx.AsyncClient(base_url=self.url, timeout=timeout, transport=transport)

    async def parse(self, text: str) -> dict[str, Any]:
        try:
            response = await self._client.post("/model/parse", json={"text": text})
            response.raise_for_status()
            return _shape(text, response.json())
        except (httpx.HTTPError, ValueError) as error:
            raise RasaServerError(f"Rasa server {self.url} did not parse the message: {error}") from error

    async def aclose(self) -> None:
        await self._client.aclose()
