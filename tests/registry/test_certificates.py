"""The authority's certificate upload and 证书管理, through the admin API and the trainee's view."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from services.context import Backend
from storage.models import Certificate, Person
from tests.people import make_id_number, make_phone, make_wrong_check_id_number
from tests.registry.signup import register_registry

HEADER = "name,id_number,certificate_number,position,category,status,remark,issued_on\n"


async def upload(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: str | bytes, **params: str
) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return await client.post(
        "/api/admin/certificates/import", content=content, headers=admin_headers, params=params
    )


async def certificate_count(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Certificate)) or 0)


async def test_import_is_idempotent_and_updates(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    id_number = make_id_number()
    rows = (
        f"古林前,{id_number},221175,机械员,专业人员,非正常,未按要求完成继续教育,2019-06-18\n"
        f"古林前,{id_number},吉建培2021000458,安全员,专业人员,正常,,2021-09-02\n"
    )
    first = (await upload(client, admin_headers, HEADER + rows)).json()
    assert (first["imported"], first["created"], first["updated"]) == (True, 2, 0)
    again = (await upload(client, admin_headers, HEADER + rows)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)

    changed = rows.replace("非正常,未按要求完成继续教育", "正常,")
    third = (await upload(client, admin_headers, HEADER + changed)).json()
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 1)
    assert await certificate_count(backend) == 2
    async with backend.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
        status = await session.scalar(
            select(Certificate.status).where(Certificate.certificate_number == "221175")
        )
    assert status == "正常"


async def test_one_bad_row_imports_nothing_and_names_each_line(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    good = make_id_number()
    body = (
        HEADER
        + f"白山松,{good},吉建培2020003317,施工员(土建),专业人员,非正常,未按要求完成继续教育,2020-04-27\n"
        + "\n"
        + f"查干湖,{make_wrong_check_id_number()},220813,钢筋工,技能人员,正常,,2018-11-09\n"
        + f"雾凇岛,{make_id_number()},吉建培2022007701,机成员,专业人员,正常,,2022-03-15\n"
        + f"长白鹿,{make_id_number()},吉建培2019005566,建筑电工,专业人员,正常,,2019-08-30\n"
        + f"白山松,{good},吉建培2020003317,施工员（土建）,专业人员,正常,,2020-04-27\n"
        + f"<b>x</b>,{make_id_number()},12,机械员,专业人员,好,,2020-02-30\n"
    )
    report = (await upload(client, admin_headers, body)).json()
    assert report["imported"] is False
    lines = {error["line"]: error["message"] for error in report["errors"]}
    assert sorted(lines) == [4, 5, 6, 7, 8]
    assert "校验位" in lines[4]
    assert "机成员" in lines[5]
    assert "技能人员" in lines[6]
    assert "与第2行重复" in lines[7]
    # every problem of a row at once, each named by its column
    assert [part[:4] for part in lines[8].split("；")] == ["姓名“<", "证书编号", "证书状态", "发证日期"]
    assert await certificate_count(backend) == 0

    skipped = (await upload(client, admin_headers, body, skip_invalid="true")).json()
    assert skipped["imported"] is True
    assert skipped["created"] == 1
    assert await certificate_count(backend) == 1


async def test_gbk_and_missing_columns_are_refused_whole(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    row = f"古林前,{make_id_number()},221175,机械员,专业人员,非正常,未按要求完成继续教育,2019-06-18\n"
    gbk = await upload(client, admin_headers, (HEADER + row).encode("gbk"))
    assert gbk.status_code == 422
    assert "UTF-8" in gbk.json()["error"]["message"]

    no_status = await upload(client, admin_headers, HEADER.replace(",status", "") + row)
    assert no_status.status_code == 422
    assert "status" in no_status.json()["error"]["message"]
    assert await certificate_count(backend) == 0


async def test_a_certificate_number_cannot_move_to_another_person(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    await upload(
        client, admin_headers, HEADER + f"古林前,{make_id_number()},221175,机械员,专业人员,正常,,2019-06-18\n"
    )
    other = await upload(
        client, admin_headers, HEADER + f"白山松,{make_id_number()},221175,机械员,专业人员,正常,,2019-06-18\n"
    )
    assert other.json()["imported"] is False
    assert "另一个人名下" in other.json()["errors"][0]["message"]


async def test_trainee_sees_only_their_own_certificates(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    mine, theirs = make_id_number(), make_id_number()
    await upload(
        client,
        admin_headers,
        HEADER
        + f"古林前,{mine},221175,机械员,专业人员,非正常,未按要求完成继续教育,2019-06-18\n"
        + f"白山松,{theirs},220813,钢筋工,技能人员,正常,,2018-11-09\n",
    )
    phone = make_phone()
    await register_registry(client, name="古林前", id_number=mine, phone=phone)
    token = (await client.post("/api/registry/sessions", json={"login": mine, "password": phone})).json()[
        "token"
    ]
    listed = await client.get("/api/registry/me/certificates", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "name": "古林前",
            "certificate_number": "221175",
            "position": "机械员",
            "category": "专业人员",
            "status": "非正常",
            "remark": "未按要求完成继续教育",
            "issued_on": "2019-06-18",
            "hours": [],
        }
    ]
    assert (await client.get("/api/registry/me/certificates")).status_code == 401


async def test_a_large_csv_imports_over_http_within_its_own_limit(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    """The authority's file is far larger than any JSON body: 5,000 rows (about 430 KB, seven times
    the JSON limit) import over HTTP in one go, and a file over the CSV limit is refused in Chinese
    with nothing imported."""
    header = "name,id_number,certificate_number,position,category,status,remark,issued_on\n"
    names = "甲乙丙丁戊己庚辛壬癸"
    rows = "".join(
        f"测试{names[n % 10]},{make_id_number()},吉建培{2024000000 + n},机械员,专业人员,正常,,2024-01-02\n"
        for n in range(5_000)
    )
    csv_headers = {**admin_headers, "Content-Type": "text/csv"}
    done = await client.post(
        "/api/admin/certificates/import", content=(header + rows).encode(), headers=csv_headers
    )
    assert done.status_code == 200, done.text[:500]
    assert done.json()["imported"] is True and done.json()["created"] == 5_000
    assert await certificate_count(backend) == 5_000
    too_big = "x" * (backend.settings.max_csv_bytes + 1)
    refused = await client.post("/api/admin/certificates/import", content=too_big, headers=csv_headers)
    assert refused.status_code == 413
    assert refused.json()["error"]["message"] == "提交的内容太大了"
    assert await certificate_count(backend) == 5_000
