"""The assistant's link to the player: signed, expiring, for one's own order; the page, its script
and the course videos are served (videos with range requests, nothing outside the media folder)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from services.context import Backend
from storage.models import AuthToken
from tests.conftest import FakeClock
from tests.learning.conftest import enrol, make_trainee

pytestmark = pytest.mark.usefixtures("catalog")


async def test_player_link_logs_the_page_in_and_expires(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee = await make_trainee(client, backend)
    other = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    foreign = await client.post(
        "/api/learning/player-links", json={"enrolment_id": order["id"]}, headers=other.headers
    )
    assert foreign.status_code == 404

    made = await client.post(
        "/api/learning/player-links", json={"enrolment_id": order["id"]}, headers=trainee.headers
    )
    assert made.status_code == 201
    url = made.json()["url"]
    assert url.startswith(backend.settings.public_url + "/learning/player?ticket=")
    assert trainee.id_number not in url and trainee.phone not in url
    ticket = parse_qs(urlsplit(url).query)["ticket"][0]

    redeemed = await client.post("/api/learning/player-links/redeem", json={"ticket": ticket})
    assert redeemed.status_code == 200 and redeemed.json()["enrolment_id"] == order["id"]
    headers = {"Authorization": f"Bearer {redeemed.json()['token']}"}
    assert (await client.get(f"/api/learning/enrolments/{order['id']}", headers=headers)).status_code == 200

    forged = await client.post("/api/learning/player-links/redeem", json={"ticket": ticket[:-2] + "xx"})
    assert forged.status_code == 404 and forged.json()["error"]["code"] == "bad_link"
    made = await client.post(
        "/api/learning/player-links", json={"enrolment_id": order["id"]}, headers=trainee.headers
    )
    fresh = parse_qs(urlsplit(made.json()["url"]).query)["ticket"][0]
    clock.advance(minutes=31)
    expired = await client.post("/api/learning/player-links/redeem", json={"ticket": fresh})
    assert expired.status_code == 410 and "过期" in expired.json()["error"]["message"]


async def test_a_player_link_logs_in_once_even_when_forwarded_and_tried_at_once(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    tickets = []
    for _ in range(2):
        made = await client.post(
            "/api/learning/player-links", json={"enrolment_id": order["id"]}, headers=trainee.headers
        )
        tickets.append(parse_qs(urlsplit(made.json()["url"]).query)["ticket"][0])
    assert tickets[0] != tickets[1]

    answers = await asyncio.gather(
        *(client.post("/api/learning/player-links/redeem", json={"ticket": tickets[0]}) for _ in range(8))
    )
    assert sorted(answer.status_code for answer in answers) == [200] + [410] * 7
    used = next(answer for answer in answers if answer.status_code == 410).json()["error"]
    assert used["code"] == "link_used" and "用过" in used["message"]
    async with backend.sessions() as session:
        logins = await session.scalar(
            select(func.count()).select_from(AuthToken).where(AuthToken.person_id == trainee.person_id)
        )
    assert logins == 2  # the trainee's own login and the one the link made

    # Another link of the same order still works once.
    again = await client.post("/api/learning/player-links/redeem", json={"ticket": tickets[1]})
    assert again.status_code == 200 and again.json()["enrolment_id"] == order["id"]
    assert (
        await client.post("/api/learning/player-links/redeem", json={"ticket": tickets[1]})
    ).status_code == 410


async def test_page_script_and_media_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/learning/player")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="viewport"' in page.text and "<video" in page.text
    assert re.search(r"<video[^>]*\scontrols[\s>=]", page.text) is None, "no seek bar"
    script = await client.get("/learning/static/player.js")
    assert script.status_code == 200 and "heartbeats" in script.text
    assert (await client.get("/learning/static/other.js")).status_code == 404

    video = await client.get("/learning/media/ZY-JX.webm", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and video.headers["content-type"] == "video/webm"
    assert len(video.content) == 100 and video.content[:4] == b"\x1a\x45\xdf\xa3"
    assert (await client.get("/learning/media/..%2Fjianpei.sqlite3")).status_code == 404
    assert (await client.get("/learning/media/NOPE.webm")).status_code == 404
