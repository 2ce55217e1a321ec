"""The management system keeps one photo per person and refuses to replace it."""

from __future__ import annotations

import asyncio
import io

import httpx
from PIL import Image
from sqlalchemy import func, select

from services.context import Backend
from storage.models import Photo
from tests.people import make_id_number, make_phone


def jpeg(colour: tuple[int, int, int] = (250, 250, 250)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (295, 413), colour).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


async def logged_in(client: httpx.AsyncClient) -> dict[str, str]:
    id_number, phone = make_id_number(), make_phone()
    await client.post(
        "/api/registry/accounts", json={"name": "雾凇岛", "id_number": id_number, "phone": phone}
    )
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
    again = await put_photo(client, auth, jpeg((240, 240, 255)))
    assert again.status_code == 409
    assert "一经上传不可修改" in again.json()["error"]["message"]

    stored = await client.get("/api/registry/me/photo", headers=auth)
    assert stored.content == jpeg(), "the first photo is kept"
    assert (await client.get("/api/registry/me", headers=auth)).json()["has_photo"] is True
    assert len(list((backend.settings.data_dir / "photos").iterdir())) == 1


async def test_racing_uploads_keep_exactly_one_photo(client: httpx.AsyncClient, backend: Backend) -> None:
    auth = await logged_in(client)
    results = await asyncio.gather(*(put_photo(client, auth, jpeg((250, 250, 250 - i))) for i in range(4)))
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
