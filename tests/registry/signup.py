"""Registering in the management system the way a person does: ask for the SMS code, read it on
the phone (here the SMS outbox, through the admin API), register with it."""

from __future__ import annotations

import re

import httpx

from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def texted_code(client: httpx.AsyncClient, phone: str, purpose: str = "register_registry") -> str:
    """The newest code of this purpose the phone received."""
    outbox = await client.get("/api/admin/sms-outbox", params={"phone": phone}, headers=ADMIN)
    assert outbox.status_code == 200, outbox.text
    for message in outbox.json():
        if message["kind"] == f"code:{purpose}":
            return re.search(r"\d{6}", message["text"]).group(0)  # type: ignore[union-attr]
    raise AssertionError(f"no {purpose} code was texted to {phone}")


async def ask_code(client: httpx.AsyncClient, *, name: str, id_number: str, phone: str) -> httpx.Response:
    return await client.post(
        "/api/registry/sms-codes", json={"name": name, "id_number": id_number, "phone": phone}
    )


async def register_registry(
    client: httpx.AsyncClient, *, name: str, id_number: str, phone: str
) -> httpx.Response:
    """Ask for the code and register with it; the answer of the registration (or of a refused code)."""
    asked = await ask_code(client, name=name, id_number=id_number, phone=phone)
    if asked.status_code != 202:
        return asked
    code = await texted_code(client, re.sub(r"\D", "", phone))
    return await client.post(
        "/api/registry/accounts", json={"name": name, "id_number": id_number, "phone": phone, "code": code}
    )
