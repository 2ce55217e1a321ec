"""ASGI middleware that refuses request bodies over a size limit before they reach a route."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import error_body


class BodySizeLimit:
    """JSON and form bodies get `json_limit`; multipart uploads (photos) get `upload_limit`; the
    authority's certificate CSV (`text/csv`, tens of thousands of rows) gets `csv_limit`.

    A declared Content-Length over the limit is refused at once; a chunked body is read up to the
    limit and replayed to the app, so no route ever sees more than the limit.
    """

    def __init__(self, app: ASGIApp, *, json_limit: int, upload_limit: int, csv_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.csv_limit = csv_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = self._limit(content_type)
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await _refuse(send)
                return
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _limit(self, content_type: str) -> int:
        if content_type.startswith("multipart/"):
            return self.upload_limit
        if content_type.startswith("text/csv"):
            return self.csv_limit
        return self.json_limit


async def _refuse(send: Send) -> None:
    body = json.dumps(error_body("too_large", "提交的内容太大了"), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
