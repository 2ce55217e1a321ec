"""The management system keeps one photo per person, only one that passes the photo check, and
refuses to replace it."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from services.context import Backend
from storage.models import Photo
from tests.people import make_id_number, make_phone
from tests.photos.synth import ID_BLUE, cat, encode, id_photo_jpeg, portrait
from tests.registry.signup import register_registry


def jpeg(quality: int = 85) -> bytes:
    """A photo both systems accept; each quality gives different bytes."""
    return id_photo_jpeg(quality)


async def logged_in(client: httpx.AsyncClient) -> dict[str, str]:
    id_number, phone = make_id_number(), make_phone()
    await register_registry(client, name="雾凇岛", id_number=id_number, phone=phone)
    token = (
        await client.post("/api/registry/sessions", json={"login": id_number, "password": phone})
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


async def put_photo(
    client: httpx.AsyncClient, auth: dict[str, str], data: bytes, name: str = "me.jpg"
) -> httpx.Response:
    return await client.put(
        "/api/registry/me/photo", files={"file": (name, data, "image/jpeg")}, headers=auth
    )


async def photo_rows(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Photo)) or 0)


async def test_second_upload_is_refused_with_the_guides_words(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    auth = await logged_in(client)
    first = await put_photo(client, auth, jpeg())
    assert first.status_code == 201, first.text
    again = await put_photo(client, auth, jpeg(80))
    assert again.status_code == 409
    assert "一经上传不可修改" in again.json()["error"]["message"]

    stored = await client.get("/api/registry/me/photo", headers=auth)
    assert stored.content == jpeg(), "the first photo is kept"
    assert (await client.get("/api/registry/me", headers=auth)).json()["has_photo"] is True
    assert len(list((backend.settings.data_dir / "photos").iterdir())) == 1


async def test_racing_uploads_keep_exactly_one_photo(client: httpx.AsyncClient, backend: Backend) -> None:
    auth = await logged_in(client)
    results = await asyncio.gather(*(put_photo(client, auth, jpeg(80 + i)) for i in range(4)))
    assert sorted(response.status_code for response in results).count(201) == 1
    assert await photo_rows(backend) == 1
    assert len(list((backend.settings.data_dir / "photos").iterdir())) == 1


async def test_unreadable_and_empty_files_are_refused_and_nothing_kept(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    auth = await logged_in(client)
    for data in [b"", b"this is text renamed to jpg", jpeg()[:200]]:
        response = await put_photo(client, auth, data)
        assert response.status_code == 422, data[:20]
        assert response.json()["error"]["message"]
    assert await photo_rows(backend) == 0
    assert (await client.get("/api/registry/me/photo", headers=auth)).status_code == 404


async def test_a_photo_that_fails_the_check_is_refused_with_every_problem(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    auth = await logged_in(client)
    response = await put_photo(client, auth, encode(cat(), quality=100))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "photo_invalid"
    codes = [problem["code"] for problem in error["problems"]]
    assert {"file_size", "no_face", "background"} <= set(codes)
    assert all(set(problem) == {"code", "message", "fixable"} for problem in error["problems"])
    assert "没有找到人脸" in error["message"]
    assert await photo_rows(backend) == 0
    assert not (backend.settings.data_dir / "photos").exists() or not any(
        (backend.settings.data_dir / "photos").iterdir()
    )


async def test_the_management_system_takes_white_backgrounds_only(client: httpx.AsyncClient) -> None:
    auth = await logged_in(client)
    blue = await put_photo(client, auth, encode(portrait(background=ID_BLUE)))
    assert blue.status_code == 422
    assert [p["code"] for p in blue.json()["error"]["problems"]] == ["background"]
    assert "白色" in blue.json()["error"]["message"]
    assert (await put_photo(client, auth, jpeg())).status_code == 201


async def test_a_photo_over_30000_bytes_is_refused_as_fixable(client: httpx.AsyncClient) -> None:
    """80 KB would do for the management system, but the same photo must serve the platform too."""
    auth = await logged_in(client)
    big = encode(portrait(), quality=100)
    assert 30_000 < len(big) < 80 * 1024
    response = await put_photo(client, auth, big)
    assert response.status_code == 422
    assert response.json()["error"]["problems"] == [
        {"code": "file_size", "message": response.json()["error"]["problems"][0]["message"], "fixable": True}
    ]


async def test_the_kept_photo_is_described(client: httpx.AsyncClient) -> None:
    auth = await logged_in(client)
    data = jpeg()
    response = await put_photo(client, auth, data)
    assert response.status_code == 201
    info = response.json()
    assert (info["content_type"], info["width"], info["height"], info["size_bytes"]) == (
        "image/jpeg",
        295,
        413,
        len(data),
    )


async def test_once_kept_any_new_file_is_told_the_photo_is_locked(client: httpx.AsyncClient) -> None:
    auth = await logged_in(client)
    assert (await put_photo(client, auth, jpeg())).status_code == 201
    response = await put_photo(client, auth, encode(cat()))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "photo_locked"
