"""Expired login tokens do not pile up: a new login clears the person's expired ones of that system."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from services.context import Backend
from storage.models import AuthToken, Person
from tests.conftest import FakeClock
from tests.learning.conftest import register_and_login
from tests.people import make_id_number, make_phone
from tests.registry.signup import register_registry


async def _tokens(backend: Backend, id_number: str) -> list[tuple[str, bool]]:
    """(system, still valid) of each stored token of the person."""
    async with backend.sessions() as session:
        rows = await session.execute(
            select(AuthToken.system, AuthToken.expires_at)
            .join(Person, Person.id == AuthToken.person_id)
            .where(Person.id_number == id_number)
        )
        return sorted((system, expires_at > backend.now()) for system, expires_at in rows)


async def _registered(client: httpx.AsyncClient, name: str) -> tuple[str, str]:
    id_number, phone = make_id_number(), make_phone()
    made = await register_registry(client, name=name, id_number=id_number, phone=phone)
    assert made.status_code == 201, made.text
    return id_number, phone


async def _login(client: httpx.AsyncClient, id_number: str, phone: str) -> None:
    answer = await client.post("/api/registry/sessions", json={"login": id_number, "password": phone})
    assert answer.status_code == 200, answer.text


async def test_a_new_login_clears_the_expired_tokens(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    me, my_phone = await _registered(client, "白山松")
    neighbour, their_phone = await _registered(client, "古林前")
    await register_and_login(client, backend, "白山松", me)  # a platform login of the same person
    await _login(client, me, my_phone)
    await _login(client, me, my_phone)
    await _login(client, neighbour, their_phone)
    clock.advance(hours=backend.settings.session_hours + 1)
    assert await _tokens(backend, me) == [("learning", False), ("registry", False), ("registry", False)]

    await _login(client, me, my_phone)
    await _login(client, me, my_phone)

    # Both new logins stay; the platform's token is the platform's business; the neighbour's is theirs.
    assert await _tokens(backend, me) == [("learning", False), ("registry", True), ("registry", True)]
    assert await _tokens(backend, neighbour) == [("registry", False)]
