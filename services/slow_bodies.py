"""ASGI middleware that cuts off a request whose body arrives too slowly (a slowloris client).

uvicorn limits how long idle connections and headers may take, but not a body: a client that sends
its headers and then trickles the body a byte at a time holds a connection, a task and a buffer for
as long as it likes, and a few hundred such clients use up a server. Here the whole body must arrive
within `seconds` of the request reaching the app; when it does not, the client is answered 408 with
the reason in Chinese and the connection is closed, and the route is told the client went away.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import error_body

_TIMEOUT_BODY = json.dumps(
    error_body("body_timeout", "提交的内容传得太慢，已经断开，请检查网络后重新提交"), ensure_ascii=False
).encode()


class BodyDeadline:
    """Answer 408 and close the connection when a request body is not complete within `seconds`.

    The deadline covers the body only: once it is complete, waiting on the connection (a push
    stream listening for the client to leave) is not limited. A response the app has already begun
    is left alone; the connection is then closed by the server when the route gives up.
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_complete = False
        started = answered = False

        async def timed_receive() -> Message:
            nonlocal body_complete, answered
            if answered:
                return {"type": "http.disconnect"}
            if body_complete:
                return await receive()
            # A part that already arrived is taken even past the deadline (a busy server may come to
            # read it late); only a part still on its way is waited for no longer than the deadline.
            arriving = asyncio.ensure_future(receive())
            await asyncio.wait({arriving}, timeout=max(0.0, deadline - loop.time()))
            if not arriving.done():
                arriving.cancel()
                if not started:
                    answered = True
                    await _answer_timeout(send)
                return {"type": "http.disconnect"}
            message = arriving.result()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_complete = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the client was already told; whatever the route says now goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except Exception:
            if not answered:
                raise
            # The route failed on the body it never got; the client has its answer already.


async def _answer_timeout(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_TIMEOUT_BODY)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _TIMEOUT_BODY})
