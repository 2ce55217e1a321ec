"""/docs and /redoc load every script and style from the server itself: they work with no internet."""

from __future__ import annotations

import re

import httpx


async def test_docs_pages_need_nothing_from_outside(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        linked = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert linked, html
        assert not [url for url in linked if url.startswith(("http:", "https:", "//"))], linked
        for url in linked:
            answer = await client.get(url)
            assert answer.status_code == 200, url
            assert len(answer.content) > 1000 or url.endswith(".json"), url
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.")
