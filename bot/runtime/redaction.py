"""What chat history may keep of a turn. History is stored for good and shown again (the web chat's
reload, staff), while an ID number with its phone logs in (the phone is the initial password) and an
SMS code binds a chat, so none of them is ever stored in the clear: ID numbers and phones anywhere in
an event are masked the way staff see them, and whatever the trainee typed into an ID, phone or code
slot has its digits starred (a new password, every character). The live tracker keeps the values for
the turn that uses them; a value a later turn needs is the actions' to carry sealed (the slots shown
hold its mask)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rules.identity import mask_id_number, mask_phone

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
# Entities that are secret wherever they appear (a code unless the same digits also read as
# something else, a bare certificate number), and slots a typed secret is filled into.
SECRET_ENTITIES = frozenset({"id_number", "phone", "sms_code"})
SECRET_SLOTS = frozenset({"reg_id_number", "reg_phone", "reg_code", "sms_code", "signup_code"})
# A password typed into its slot is starred whole, letters and all, however few digits it has; so is
# a one-time link code (Telegram's /start <code>), and that one also wherever its payload is the
# text, since a turn that goes to staff or is a double tap fills no slot.
PASSWORD_SLOTS = frozenset({"new_password", "link_code"})
LINK_CODE_IN_PAYLOAD = re.compile(r'^/redeem_chat_link\{.*"link_code"\s*:\s*"(?P<code>[^"]+)"')
MIN_DIGITS = 4  # a slot's own words ("ok") are not what was typed; a code has 6 digits
_DIGIT = re.compile(r"[0-9\uff10-\uff19]")


def _star(value: str) -> str:
    return _DIGIT.sub("*", value)


def _slot_values(events: Iterable[dict[str, Any]], names: frozenset[str]) -> set[str]:
    """What the turn put into the slots `names` (text only, not empty)."""
    return {
        event["value"]
        for event in events
        if event.get("event") == "slot"
        and event.get("name") in names
        and isinstance(event.get("value"), str)
        and event["value"]
    }


def _passwords(events: list[dict[str, Any]]) -> set[str]:
    found = _slot_values(events, PASSWORD_SLOTS)
    payloads = (
        LINK_CODE_IN_PAYLOAD.match(str(e.get("text") or "")) for e in events if e.get("event") == "user"
    )
    return found | {match.group("code") for match in payloads if match}


def typed_password(events: list[dict[str, Any]]) -> bool:
    """Whether the trainee's message of this turn was itself a password, put whole into its slot: the
    history stars it, and a channel whose platform can take his message back out of the chat does so.
    A link code comes inside a payload, never as the message's own text, so it does not count."""
    said = {str(event.get("text") or "").strip() for event in events if event.get("event") == "user"}
    return bool(_slot_values(events, PASSWORD_SLOTS) & said)


def _typed_secrets(events: Iterable[dict[str, Any]]) -> list[str]:
    """The turn's secrets as the trainee typed them: ID, phone and code entities (their value and the
    span of text they came from), and what the message put into a secret slot. Longest first."""
    events = list(events)
    filled = _slot_values(events, SECRET_SLOTS)
    found: set[str] = set()
    for event in events:
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
    return sorted(
        (value for value in found if len(_DIGIT.findall(value)) >= MIN_DIGITS), key=len, reverse=True
    )


def _masked(value: str, typed: list[str], passwords: set[str]) -> str:
    for password in passwords:
        value = value.replace(password, "*" * len(password))
    value = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), value)
    value = PHONE.sub(lambda m: mask_phone(m.group(0)), value)
    for secret in typed:
        value = value.replace(secret, _star(secret))
    return value


def _walk(data: Any, typed: list[str], passwords: set[str]) -> Any:
    if isinstance(data, str):
        return _masked(data, typed, passwords)
    if isinstance(data, dict):
        return {key: _walk(value, typed, passwords) for key, value in data.items()}
    if isinstance(data, list):
        return [_walk(value, typed, passwords) for value in data]
    return data


def redacted(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of one turn's events fit to store; the events themselves are left as they are."""
    typed = _typed_secrets(events)
    passwords = _passwords(events)
    return [_walk(event, typed, passwords) for event in events]
