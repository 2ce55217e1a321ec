"""`jianpei serve` answers /health with the schema revision and the NLU model that reads the chats."""

from __future__ import annotations

import httpx

from nlu import Interpreter
from storage import migrate


async def test_health_names_the_nlu_model_and_schema(
    chat_http: httpx.AsyncClient, interpreter: Interpreter
) -> None:
    health = (await chat_http.get("/health")).json()
    assert health["nlu_model"] == interpreter.version
    assert len(health["nlu_model"]) >= 8
    assert health["schema_version"] == migrate.head_revisions()
    assert health["schema_up_to_date"] is True
