"""assistant: mask ID numbers, phones and SMS codes already kept in chat history

Revision ID: 0102
Revises: 0101

Events were stored with what the trainee typed, in the clear: an ID number with its phone logs in (the
initial password is the phone), a code binds a chat. The runtime now stores them masked
(bot/runtime/redaction.py); this masks what is already there by the same rules, frozen here as they
were when written. Turns are regrouped per chat (a turn starts at a user event), since whether six
digits are a code depends on the slot the turn put them in. Irreversible: downgrade keeps the masks.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None

BATCH = 2000
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
SECRET_ENTITIES = frozenset({"id_number", "phone", "sms_code"})
SECRET_SLOTS = frozenset({"reg_id_number", "reg_phone", "sms_code", "signup_code"})
MIN_DIGITS = 4
DIGIT = re.compile(r"[0-9\uff10-\uff19]")

events = sa.table(
    "assistant_events",
    sa.column("id", sa.BigInteger),
    sa.column("sender_id", sa.String),
    sa.column("session_no", sa.Integer),
    sa.column("data", sa.Text),
)


def _typed_secrets(turn: list[dict[str, Any]]) -> list[str]:
    filled = {
        event["value"]
        for event in turn
        if event.get("event") == "slot"
        and event.get("name") in SECRET_SLOTS
        and isinstance(event.get("value"), str)
    }
    found: set[str] = set()
    for event in turn:
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "")
        found.update(value for value in filled if value and value in text)
        entities = (event.get("parse_data") or {}).get("entities") or []
        plain = {str(e.get("value")) for e in entities if e.get("entity") not in SECRET_ENTITIES}
        for entity in entities:
            value = str(entity.get("value") or "")
            secret = entity.get("entity") in SECRET_ENTITIES and value not in plain
            if not secret and value not in filled:
                continue
            found.add(value)
            start, end = entity.get("start"), entity.get("end")
            if isinstance(start, int) and isinstance(end, int):
                found.add(text[start:end])
    return sorted((v for v in found if len(DIGIT.findall(v)) >= MIN_DIGITS), key=len, reverse=True)


def _masked(value: str, typed: list[str]) -> str:
    value = ID_NUMBER.sub(lambda m: m.group(0)[:6] + "********" + m.group(0)[-4:], value)
    value = PHONE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], value)
    for secret in typed:
        value = value.replace(secret, DIGIT.sub("*", secret))
    return value


def _walk(data: Any, typed: list[str]) -> Any:
    if isinstance(data, str):
        return _masked(data, typed)
    if isinstance(data, dict):
        return {key: _walk(value, typed) for key, value in data.items()}
    if isinstance(data, list):
        return [_walk(value, typed) for value in data]
    return data


def _changes(turn: list[tuple[int, str, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    typed = _typed_secrets([event for _, _, event in turn])
    for row_id, stored, event in turn:
        data = json.dumps(_walk(event, typed), ensure_ascii=False)
        if data != stored:
            yield {"row_id": row_id, "masked": data}


def upgrade() -> None:
    """Reads the events chat by chat in stored order, a batch at a time, and rewrites changed rows."""
    bind = op.get_bind()
    rewrite = (
        sa.update(events).where(events.c.id == sa.bindparam("row_id")).values(data=sa.bindparam("masked"))
    )
    order = (events.c.sender_id, events.c.session_no, events.c.id)
    after: tuple[str, int, int] | None = None
    sender: str | None = None
    turn: list[tuple[int, str, dict[str, Any]]] = []
    while True:
        query = sa.select(*order, events.c.data).order_by(*order).limit(BATCH)
        if after is not None:
            query = query.where(sa.tuple_(*order) > sa.tuple_(*after))
        rows = bind.execute(query).all()
        if not rows:
            break
        changed: list[dict[str, Any]] = []
        for row in rows:
            event = json.loads(row.data)
            if row.sender_id != sender or event.get("event") == "user":
                changed.extend(_changes(turn))
                sender, turn = row.sender_id, []
            turn.append((row.id, row.data, event))
        if changed:
            bind.execute(rewrite, changed)
        after = (rows[-1].sender_id, rows[-1].session_no, rows[-1].id)
    changed = list(_changes(turn))
    if changed:
        bind.execute(rewrite, changed)


def downgrade() -> None:
    pass  # what was masked stays masked
