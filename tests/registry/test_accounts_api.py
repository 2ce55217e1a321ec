"""Registering and logging in to the management system over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from services.context import Backend
from storage.models import Person, RegistryAccount
from tests.conftest import FakeClock
from tests.people import make_id_number, make_phone, make_wrong_check_id_number
from tests.registry.signup import register_registry


async def register(client: httpx.AsyncClient, name: str = "白山松", **fields: str) -> httpx.Response:
    body = {"name": name, "id_number": make_id_number(), "phone": make_phone(), **fields}
    return await register_registry(client, **body)


async def login(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post("/api/registry/sessions", json={"login": login, "password": password})


async def count(backend: Backend, model: type) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_register_then_login_with_id_number_and_phone(client: httpx.AsyncClient) -> None:
    id_number = make_id_number()
    response = await register_registry(
        client, name="白山松", id_number=id_number.lower(), phone="139-0000 1234"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["login"] == id_number
    assert body["must_change_password"] is True
    assert "初始密码为手机号" in body["message"]
    assert "13900001234" not in response.text, "the password is never echoed"

    logged_in = await login(client, id_number, "13900001234")
    assert logged_in.status_code == 200
    assert logged_in.json()["must_change_password"] is True
    token = logged_in.json()["token"]

    profile = await client.get("/api/registry/me", headers={"Authorization": f"Bearer {token}"})
    assert profile.status_code == 200
    assert profile.json()["phone"] == "13900001234"
    assert profile.json()["has_photo"] is False


async def test_password_is_stored_hashed(client: httpx.AsyncClient, backend: Backend) -> None:
    phone = make_phone()
    assert (await register(client, phone=phone)).status_code == 201
    async with backend.sessions() as session:
        stored = await session.scalar(select(RegistryAccount.password_hash))
    assert stored is not None and phone not in stored and stored.startswith("$argon2")


async def test_one_phone_one_account_and_one_id_one_account(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    phone = make_phone()
    id_number = make_id_number()
    assert (await register(client, phone=phone, id_number=id_number)).status_code == 201

    same_phone = await register(client, phone=phone)
    assert same_phone.status_code == 409
    assert same_phone.json()["error"]["code"] == "phone_taken"
    assert "一个手机号只能注册一个账号" in same_phone.json()["error"]["message"]

    same_id = await register(client, id_number=id_number)
    assert same_id.status_code == 409
    assert same_id.json()["error"]["code"] == "id_number_taken"

    assert await count(backend, RegistryAccount) == 1
    assert await count(backend, Person) == 1


async def test_invalid_identity_is_refused_in_chinese_and_nothing_stored(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    cases = [
        ({"id_number": make_wrong_check_id_number()}, "invalid_id_number", "校验位"),
        ({"id_number": "220102198002300010"}, "invalid_id_number", "出生日期"),
        ({"phone": "12345"}, "invalid_phone", "11位"),
        ({"name": "<script>alert(1)</script>"}, "invalid_name", "真实姓名"),
        ({"name": "x'); DROP TABLE persons; --"}, "invalid_name", "真实姓名"),
    ]
    for fields, code, fragment in cases:
        response = await register(client, **fields)
        assert response.status_code == 422, fields
        assert response.json()["error"]["code"] == code
        assert fragment in response.json()["error"]["message"]
    assert await count(backend, Person) == 0


async def test_malformed_and_oversized_json_get_clear_errors(client: httpx.AsyncClient) -> None:
    broken = await client.post(
        "/api/registry/accounts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["message"] == "请求内容不是有效的 JSON"

    missing = await client.post("/api/registry/accounts", json={"name": "白山松"})
    assert missing.status_code == 422
    assert missing.json()["error"]["message"].startswith("缺少")

    wrong_type = await client.post("/api/registry/accounts", json={"name": 5, "id_number": [], "phone": {}})
    assert wrong_type.status_code == 422
    assert "格式不对" in wrong_type.json()["error"]["message"]

    huge = await client.post(
        "/api/registry/accounts",
        content=b'{"name": "' + b"a" * 200_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"


async def test_registering_a_person_known_from_the_authority_must_use_their_name(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    id_number = make_id_number()
    csv = (
        "name,id_number,certificate_number,position,category,status,remark,issued_on\n"
        f"古林前,{id_number},221175,机械员,专业人员,非正常,未按要求完成继续教育,2019-06-18\n"
    )
    imported = await client.post(
        "/api/admin/certificates/import", content=csv.encode(), headers=admin_headers
    )
    assert imported.json()["created"] == 1

    wrong_name = await register(client, name="古林后", id_number=id_number)
    assert wrong_name.status_code == 422
    assert wrong_name.json()["error"]["code"] == "name_mismatch"

    right = await register(client, name="古林前", id_number=id_number)
    assert right.status_code == 201


async def test_lockout_after_repeated_wrong_passwords(client: httpx.AsyncClient, clock: FakeClock) -> None:
    id_number, phone = make_id_number(), make_phone()
    await register(client, id_number=id_number, phone=phone)

    for left in (4, 3, 2, 1):
        wrong = await login(client, id_number, "wrong-password")
        assert wrong.status_code == 401
        assert f"还可以再试{left}次" in wrong.json()["error"]["message"]
    locked = await login(client, id_number, "wrong-password")
    assert locked.status_code == 423
    assert "锁定" in locked.json()["error"]["message"]

    still_locked = await login(client, id_number, phone)
    assert still_locked.status_code == 423, "the right password does not open a locked account"

    clock.advance(minutes=16)
    assert (await login(client, id_number, phone)).status_code == 200


async def test_unknown_login_gets_the_same_answer_as_a_wrong_password(client: httpx.AsyncClient) -> None:
    response = await login(client, make_id_number(), "13800000000")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_credentials"


async def test_change_password_rules(client: httpx.AsyncClient) -> None:
    id_number, phone = make_id_number(), make_phone()
    await register(client, id_number=id_number, phone=phone)
    token = (await login(client, id_number, phone)).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}

    async def change(old: str, new: str) -> httpx.Response:
        return await client.put(
            "/api/registry/password", json={"old_password": old, "new_password": new}, headers=auth
        )

    assert (await change("not-the-password", "Jilin2026ok")).status_code == 401
    for weak, fragment in [
        ("short1", "8到32位"),
        ("onlyletters", "字母和数字"),
        ("12345678901", "字母和数字"),
        (f"a{phone}", "手机号或身份证号"),
        ("has space 123", "空格"),
    ]:
        response = await change(phone, weak)
        assert response.status_code == 422, weak
        assert fragment in response.json()["error"]["message"]

    assert (await change(phone, "Jilin2026ok")).status_code == 204
    assert (await login(client, id_number, phone)).status_code == 401
    relogin = await login(client, id_number, "Jilin2026ok")
    assert relogin.status_code == 200
    assert relogin.json()["must_change_password"] is False


async def test_token_expires_and_logout_ends_the_session(client: httpx.AsyncClient, clock: FakeClock) -> None:
    id_number, phone = make_id_number(), make_phone()
    await register(client, id_number=id_number, phone=phone)
    auth = {"Authorization": f"Bearer {(await login(client, id_number, phone)).json()['token']}"}
    assert (await client.get("/api/registry/me", headers=auth)).status_code == 200

    assert (await client.delete("/api/registry/sessions", headers=auth)).status_code == 204
    assert (await client.get("/api/registry/me", headers=auth)).status_code == 401

    auth = {"Authorization": f"Bearer {(await login(client, id_number, phone)).json()['token']}"}
    clock.advance(hours=13)
    expired = await client.get("/api/registry/me", headers=auth)
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "登录已过期，请重新登录"


async def test_profile_update_keeps_name_and_id(client: httpx.AsyncClient) -> None:
    id_number, phone = make_id_number(), make_phone()
    await register(client, id_number=id_number, phone=phone)
    auth = {"Authorization": f"Bearer {(await login(client, id_number, phone)).json()['token']}"}
    updated = await client.patch(
        "/api/registry/me",
        json={"employer": " 吉林省第一建筑公司 ", "education": "高中", "name": "改名", "id_number": "1"},
        headers=auth,
    )
    assert updated.status_code == 200
    assert updated.json()["employer"] == "吉林省第一建筑公司"
    assert updated.json()["name"] == "白山松"
    assert updated.json()["id_number"] == id_number
