"""`POST /api/photos/check` over real HTTP (ASGI): what the chat actions get back."""

from __future__ import annotations

import base64

import httpx

from services.photos import check_photo
from tests.photos.synth import ID_BLUE, cat, encode, id_photo_jpeg, portrait


async def post(client: httpx.AsyncClient, data: bytes, **params: str) -> httpx.Response:
    return await client.post(
        "/api/photos/check", files={"file": ("me.jpg", data, "image/jpeg")}, params=params
    )


async def test_check_lists_problems(client: httpx.AsyncClient) -> None:
    response = await post(client, encode(cat()))
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is False and answer["fixed"] is None
    assert "no_face" in [p["code"] for p in answer["problems"]]


async def test_fix_returns_the_repaired_photo(client: httpx.AsyncClient) -> None:
    response = await post(client, encode(portrait(900, 1200, face_height=0.3, face_top=0.3)), fix="true")
    answer = response.json()
    assert answer["ok"] is True
    fixed = base64.b64decode(answer["fixed"]["content_base64"])
    assert answer["fixed"]["bytes"] == len(fixed) <= 30_000
    assert (answer["fixed"]["width"], answer["fixed"]["height"]) == (295, 413)
    assert check_photo(fixed).ok


async def test_white_only_is_the_management_systems_rule(client: httpx.AsyncClient) -> None:
    blue = encode(portrait(background=ID_BLUE))
    assert (await post(client, blue)).json()["ok"] is True
    answer = (await post(client, blue, white_only="true")).json()
    assert [p["code"] for p in answer["problems"]] == ["background"]
    assert (await post(client, id_photo_jpeg(), white_only="true")).json() == {
        "ok": True,
        "problems": [],
        "fixed": None,
    }
