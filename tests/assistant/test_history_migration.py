"""Migration 0102 masks the chat history written before the runtime masked it: ID numbers, phones and
SMS codes, by the rules the runtime now stores with; everything else, a certificate number read from
the same six bare digits a code could be, stays as it was."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.redaction import redacted
from bot.runtime.tracker import action_event, bot_event, slot_event, user_event
from storage import migrate
from storage.db import create_engine
from storage.types import UTCDateTime
from tests.postgres import create_database, drop_database

ID_NUMBER = "220723197011030711"
PHONE = "13900000004"
CODES = ("480213", "917364")
FILLER = 1990  # the first chat's code turn (its 3rd) straddles the migration's batches of 2000
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

conversations = sa.table(
    "assistant_conversations",
    sa.column("sender_id", sa.String),
    sa.column("channel", sa.String),
    sa.column("status", sa.String),
    sa.column("session_no", sa.Integer),
    sa.column("last_event_at", UTCDateTime),
    sa.column("created_at", UTCDateTime),
)
events_table = sa.table(
    "assistant_events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("session_no", sa.Integer),
    sa.column("type_name", sa.String),
    sa.column("data", sa.Text),
    sa.column("created_at", UTCDateTime),
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine_at_0101(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database of its own, migrated up to the assistant's first revision only."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
        await migrate.upgrade(engine, "0101")
        yield engine
        await engine.dispose()
        return
    server_url = request.getfixturevalue("postgres_url")
    name = f"jianpei_old_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(await create_database(server_url, name))
    await migrate.upgrade(engine, "0101")
    yield engine
    await engine.dispose()
    await drop_database(server_url, name)


def said(text: str, *entities: tuple[str, str], intent: str = "inform") -> dict[str, Any]:
    """A user event with entities as the NLU gives them: a normalised value, the span it was read from."""
    digits = "".join(ch for ch in text if ch.isdigit())
    parsed = []
    for name, value in entities:
        start = text.index(value) if value in text else text.index(value[:3]) if value in digits else 0
        end = start + len(value) if value in text else len(text)
        parsed.append({"entity": name, "start": start, "end": end, "value": value})
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.98}, "entities": parsed}
    return user_event(parse_data, ts=1.0, channel="rest", metadata={})


def registration_turns() -> list[list[dict[str, Any]]]:
    """A registration as the runtime stored it before: typed values, validated values, a code."""
    return [
        [
            said(ID_NUMBER, ("id_number", ID_NUMBER)),
            action_event("registration_form", ts=1.0),
            slot_event("reg_id_number", ID_NUMBER, ts=1.0),
            slot_event("reg_id_number", ID_NUMBER, ts=1.0),
            bot_event({"text": "请输入手机号"}, ts=1.0, utter_action="utter_ask_reg_phone"),
        ],
        [
            said("139-0000-0004", ("phone", PHONE)),
            slot_event("reg_phone", "139-0000-0004", ts=1.0),
            slot_event("reg_phone", PHONE, ts=1.0),
            bot_event({"text": "验证码已发到 139****0004，5分钟内有效"}, ts=1.0, utter_action=None),
        ],
        [
            said(CODES[0], ("certificate_number", CODES[0]), ("sms_code", CODES[0])),
            slot_event("certificate_number", CODES[0], ts=1.0),
            slot_event("signup_code", CODES[0], ts=1.0),
            slot_event("signup_code", "ok", ts=1.0),
        ],
        [
            said(f"我的验证码 {CODES[1]}，手机{PHONE}", ("sms_code", CODES[1]), ("phone", PHONE)),
            action_event("action_default_fallback", ts=1.0),
        ],
        [
            said("221175", ("certificate_number", "221175"), ("sms_code", "221175")),
            slot_event("certificate_number", "221175", ts=1.0),
            bot_event(
                {"text": "证书 221175", "buttons": [{"title": "换证", "payload": '/renew{"n":"221175"}'}]},
                ts=1.0,
                utter_action=None,
            ),
        ],
    ]


async def test_existing_history_is_masked_as_the_runtime_now_stores_it(engine_at_0101: AsyncEngine) -> None:
    filler = [action_event("action_listen", ts=1.0)] * FILLER
    chats = {"rest:a": [filler, *registration_turns()], "rest:b": registration_turns()}
    async with engine_at_0101.begin() as conn:
        for sender in chats:
            await conn.execute(
                sa.insert(conversations).values(
                    sender_id=sender,
                    channel="rest",
                    status="bot",
                    session_no=1,
                    last_event_at=NOW,
                    created_at=NOW,
                )
            )
        # the two chats' turns interleave in the table, as real chats do
        for index in range(max(len(turns) for turns in chats.values())):
            for sender, turns in chats.items():
                if index < len(turns):
                    rows = [
                        {
                            "sender_id": sender,
                            "session_no": 1,
                            "type_name": event["event"],
                            "data": json.dumps(event, ensure_ascii=False),
                            "created_at": NOW,
                        }
                        for event in turns[index]
                    ]
                    await conn.execute(sa.insert(events_table), rows)

    await migrate.upgrade(engine_at_0101, "0102")

    async with engine_at_0101.connect() as conn:
        stored = (
            await conn.execute(
                sa.select(events_table.c.sender_id, events_table.c.data).order_by(events_table.c.id)
            )
        ).all()
    assert len(stored) == FILLER + 2 * sum(len(turn) for turn in registration_turns())
    text = "\n".join(row.data for row in stored)
    for secret in (ID_NUMBER, PHONE, "139-0000-0004", *CODES):
        assert secret not in text, secret
    for sender, turns in chats.items():
        now = [json.loads(row.data) for row in stored if row.sender_id == sender]
        assert now == [event for turn in turns for event in redacted(turn)]
    kept = [json.loads(row.data) for row in stored if "221175" in row.data]
    assert {event["event"] for event in kept} == {"user", "slot", "bot"}
