"""Account pre-emption and the way back: someone with a worker's name and ID number registers both
systems with their own phone, uploads the never-changeable photo and binds a chat; staff reset the
account after checking identity; the worker registers with their own phone. The authority's
certificates and the recorded hours stay. On SQLite and PostgreSQL, over HTTP."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from services.context import Backend
from storage.models import (
    Certificate,
    ChatBinding,
    HoursRecord,
    LearningAccount,
    Person,
    Photo,
    RegistryAccount,
)
from storage.models.registry import AccountReset
from tests.people import make_id_number, make_phone
from tests.photos.synth import id_photo_jpeg
from tests.registry.signup import register_registry, texted_code

HEADER = "name,id_number,certificate_number,position,category,status,remark,issued_on\n"


async def login(client: httpx.AsyncClient, id_number: str, password: str) -> dict[str, str]:
    answer = await client.post("/api/registry/sessions", json={"login": id_number, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def pre_empted(client: httpx.AsyncClient, backend: Backend, admin: dict[str, str]) -> tuple[str, str]:
    """古林前's certificate is on file with recorded hours; someone else took both of his accounts
    with their own phone, uploaded a photo and bound a chat. Returns (ID number, their phone)."""
    id_number, theirs = make_id_number(), make_phone()
    csv = HEADER + f"古林前,{id_number},221175,机械员,专业人员,正常,,2019-06-18\n"
    assert (await client.post("/api/admin/certificates/import", content=csv.encode(), headers=admin)).json()[
        "created"
    ] == 1
    assert (
        await register_registry(client, name="古林前", id_number=id_number, phone=theirs)
    ).status_code == 201
    auth = await login(client, id_number, theirs)
    photo = await client.put(
        "/api/registry/me/photo", files={"file": ("me.jpg", id_photo_jpeg(), "image/jpeg")}, headers=auth
    )
    assert photo.status_code == 201, photo.text
    assert (
        await client.patch("/api/registry/me", json={"employer": "冒名公司"}, headers=auth)
    ).status_code == 200
    assert (await client.post("/api/learning/sms-codes", json={"phone": theirs})).status_code == 202
    code = await texted_code(client, theirs, "register_learning")
    platform = await client.post(
        "/api/learning/accounts",
        json={"name": "古林前", "id_number": id_number, "phone": theirs, "code": code},
    )
    assert platform.status_code == 201, platform.text
    now = backend.now()
    async with backend.transaction() as session:
        person_id, certificate_id = (
            await session.execute(
                select(Person.id, Certificate.id).join(Certificate).where(Person.id_number == id_number)
            )
        ).one()
        session.add(ChatBinding(sender_id="rest:web-theirs", person_id=person_id, bound_at=now))
        session.add(
            HoursRecord(
                certificate_id=certificate_id,
                cycle_year=2025,
                professional_hours=22,
                general_hours=10,
                recorded_at=now,
            )
        )
    return id_number, theirs


async def count(backend: Backend, model: type) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_staff_reset_gives_the_account_back_to_its_owner(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    id_number, theirs = await pre_empted(client, backend, admin_headers)
    their_auth = await login(client, id_number, theirs)
    mine = make_phone()
    blocked = await register_registry(client, name="古林前", id_number=id_number, phone=mine)
    assert blocked.status_code == 409
    assert "客服电话" in blocked.json()["error"]["message"], "the owner is told whom to call"
    async with backend.sessions() as session:
        photo_path = backend.settings.data_dir / "photos" / str(await session.scalar(select(Photo.path)))
    assert photo_path.is_file()

    reset = await client.post(
        "/api/admin/registry/account-resets",
        json={"id_number": id_number.lower(), "reason": "本人持身份证到窗口核实", "operator": "王客服"},
        headers=admin_headers,
    )
    assert reset.status_code == 201, reset.text
    body = reset.json()
    assert body["id_number_masked"] == id_number[:6] + "********" + id_number[-4:]
    assert body["registry_phone_masked"] == body["learning_phone_masked"] == theirs[:3] + "****" + theirs[-4:]
    assert body["photo_removed"] is True and body["chats_unbound"] == 1
    assert id_number not in reset.text and theirs not in reset.text

    async with backend.sessions() as session:
        audit = (await session.scalars(select(AccountReset))).one()
        assert (audit.operator, audit.via, audit.reason) == ("王客服", "api", "本人持身份证到窗口核实")
        assert audit.created_at == backend.now()
        assert audit.id_number_masked == body["id_number_masked"]
        person = await session.scalar(select(Person).where(Person.id_number == id_number))
        assert person is not None and audit.person_id == person.id and person.employer is None
    for model in (RegistryAccount, LearningAccount, Photo, ChatBinding):
        assert await count(backend, model) == 0, model
    assert not photo_path.exists(), "the photo file went with its row"
    assert (await client.get("/api/registry/me", headers=their_auth)).status_code == 401
    refused = await client.post("/api/registry/sessions", json={"login": id_number, "password": theirs})
    assert refused.status_code == 401

    made = await register_registry(client, name="古林前", id_number=id_number, phone=mine)
    assert made.status_code == 201, made.text
    auth = await login(client, id_number, mine)
    assert (await client.get("/api/registry/me", headers=auth)).json()["phone"] == mine
    photo = await client.put(
        "/api/registry/me/photo", files={"file": ("me.jpg", id_photo_jpeg(), "image/jpeg")}, headers=auth
    )
    assert photo.status_code == 201, "the owner uploads their own photo"
    certificates = (await client.get("/api/registry/me/certificates", headers=auth)).json()
    assert [c["certificate_number"] for c in certificates] == ["221175"]
    assert certificates[0]["hours"][0]["total_hours"] == 32, "recorded hours belong to the person"
    assert (await client.post("/api/learning/sms-codes", json={"phone": mine})).status_code == 202


async def test_a_reset_needs_the_admin_token_a_reason_and_someone_to_reset(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    id_number, _theirs = await pre_empted(client, backend, admin_headers)
    body = {"id_number": id_number, "reason": "本人核实", "operator": "王客服"}
    url = "/api/admin/registry/account-resets"

    assert (await client.post(url, json=body)).status_code == 401
    assert (await client.post(url, json=body, headers={"Authorization": "Bearer guess"})).status_code == 403
    short = await client.post(url, json={**body, "reason": " 是 "}, headers=admin_headers)
    assert short.status_code == 422 and short.json()["error"]["code"] == "reason_required"
    nobody = await client.post(url, json={**body, "operator": "  "}, headers=admin_headers)
    assert nobody.status_code == 422 and nobody.json()["error"]["code"] == "operator_required"
    unknown = await client.post(url, json={**body, "id_number": make_id_number()}, headers=admin_headers)
    assert unknown.status_code == 404
    assert await count(backend, AccountReset) == 0
    assert await count(backend, RegistryAccount) == 1, "a refused reset changes nothing"

    assert (await client.post(url, json=body, headers=admin_headers)).status_code == 201
    again = await client.post(url, json=body, headers=admin_headers)
    assert again.status_code == 404 and again.json()["error"]["code"] == "nothing_to_reset"
    assert await count(backend, AccountReset) == 1
