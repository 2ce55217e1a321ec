"""The management system and the platform count wrong passwords, lock out and answer in the same words."""

from __future__ import annotations

import httpx

from rules.help import HELPLINE
from services.context import Backend
from tests.conftest import FakeClock
from tests.learning.conftest import add_person, register_and_login
from tests.people import make_id_number, make_phone
from tests.registry.signup import register_registry

LOGINS = {"registry": "/api/registry/sessions", "learning": "/api/learning/login"}


async def _registry_account(client: httpx.AsyncClient, _backend: Backend) -> tuple[str, str, dict[str, str]]:
    id_number, phone = make_id_number(), make_phone()
    made = await register_registry(client, name="白山松", id_number=id_number, phone=phone)
    assert made.status_code == 201, made.text
    token = (await client.post(LOGINS["registry"], json={"login": id_number, "password": phone})).json()[
        "token"
    ]
    return id_number, phone, {"Authorization": f"Bearer {token}"}


async def _learning_account(client: httpx.AsyncClient, backend: Backend) -> tuple[str, str, dict[str, str]]:
    _, id_number = await add_person(backend, "长白山", [])
    trainee = await register_and_login(client, backend, "长白山", id_number)
    return id_number, trainee.phone, trainee.headers


async def _answers(
    client: httpx.AsyncClient, clock: FakeClock, system: str, account: tuple
) -> list[tuple[int, str]]:
    """What a person sees when they get the password wrong until the lock-out, and after it."""
    id_number, phone, auth = account
    url = LOGINS[system]
    seen = []
    wrong_old = await client.put(
        f"/api/{system}/password",
        json={"old_password": "not-it-123", "new_password": "Jilin2026ok"},
        headers=auth,
    )
    seen.append(wrong_old)
    seen.append(await client.post(url, json={"login": make_id_number(), "password": phone}))
    for _ in range(5):
        seen.append(await client.post(url, json={"login": id_number, "password": "wrong-password"}))
    clock.advance(minutes=5)
    seen.append(await client.post(url, json={"login": id_number, "password": phone}))
    clock.advance(minutes=10)
    seen.append(await client.post(url, json={"login": id_number, "password": phone}))
    return [
        (answer.status_code, answer.json()["error"]["message"] if answer.status_code >= 400 else "")
        for answer in seen
    ]


async def test_both_systems_answer_alike(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    registry = await _answers(client, clock, "registry", await _registry_account(client, backend))
    learning = await _answers(client, clock, "learning", await _learning_account(client, backend))
    assert registry == learning
    assert registry == [
        (401, "原密码不对，还可以再试4次"),
        (401, "账号或密码不对。账号是身份证号，初始密码是注册手机号"),
        (401, "账号或密码不对，还可以再试3次"),
        (401, "账号或密码不对，还可以再试2次"),
        (401, "账号或密码不对，还可以再试1次"),
        (423, f"密码输错次数太多，账号已锁定15分钟，请稍后再试，或拨打客服电话 {HELPLINE}"),
        (423, f"密码输错次数太多，账号已锁定，请15分钟后再试，或拨打客服电话 {HELPLINE}"),
        (423, f"密码输错次数太多，账号已锁定，请10分钟后再试，或拨打客服电话 {HELPLINE}"),
        (200, ""),
    ]
