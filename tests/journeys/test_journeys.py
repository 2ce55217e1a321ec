"""The measure of dialogue success: how many typed journeys (journeys.yml) a worker completes.

Each journey starts from an empty database and is judged by what the backend holds at its end. The
count is printed (run with -s to see which fail and why) and must not fall below FLOOR."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.context import Backend
from tests.conftest import empty_all_tables
from tests.journeys.runner import load_journeys, play, report

FLOOR = 57
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# The measure of the dialogue, on one database: every story also runs on both elsewhere.
@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
async def test_typed_journeys(chat_http: httpx.AsyncClient, backend: Backend, clock: Any) -> None:
    journeys = load_journeys()
    assert len(journeys) >= 40
    outcomes = []
    for number, journey in enumerate(journeys, start=1):
        clock.current = START
        outcomes.append(await play(journey, chat_http, backend, clock, number))
        await empty_all_tables(backend.engine)
    print("\n" + report(outcomes))
    completed = sum(o.complete for o in outcomes)
    assert completed >= FLOOR, report(outcomes)
