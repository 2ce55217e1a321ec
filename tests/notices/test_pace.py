"""WeChat's and the SMS gateway's pace is kept over every process: two workers reserving sends on
one database at once get slots an interval apart, never the same moment (each alone would allow
twice the rate)."""

from __future__ import annotations

import asyncio
import itertools

from bot.channels.pace import SharedPace
from services.context import Backend
from storage.db import session_factory

RATE = 10.0  # messages a second


async def test_two_workers_on_one_database_share_one_pace(backend: Backend) -> None:
    one = SharedPace(backend.sessions, "sms", RATE)
    other = SharedPace(session_factory(backend.engine), "sms", RATE)  # another worker's sessions
    slots = await asyncio.gather(*(pace.reserve() for pace in [one, other] * 10))
    ordered = sorted(slots)
    assert all(b - a >= 1 / RATE - 1e-6 for a, b in itertools.pairwise(ordered)), ordered
    many = await one.reserve(3)
    assert many >= ordered[-1] + 1 / RATE - 1e-6, "three messages take three slots"
    assert await other.reserve() >= many + 3 / RATE - 1e-6
