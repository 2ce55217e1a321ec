"""One error shape for the whole API: `{"error": {"code", "message"}}`, the message in plain Chinese.

Errors a user can cause carry their own message; anything else is logged as one line with an
error id and answered with an apology, the helpline and that id, never with a stack trace. A
database that cannot be reached is answered 503: the person may simply try again later.
"""

from __future__ import annotations

import errno
import secrets
import socket
import traceback
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rules.help import APOLOGY

log = structlog.get_logger(__name__)

FIELD_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "login": "账号",
    "phone": "手机号",
    "password": "密码",
    "old_password": "原密码",
    "new_password": "新密码",
    "code": "验证码",
    "purpose": "用途",
    "employer": "工作单位",
    "education": "学历",
    "file": "文件",
    "cycle_year": "培训年度",
    "year": "年度",
    "certificate_number": "证书编号",
    "package_code": "课程包",
    "position": "岗位",
    "seq": "课程序号",
    "limit": "条数",
    "sender": "发送人",
    "message": "消息",
    "metadata": "附加信息",
    "attachment": "附件",
}


class AppError(Exception):
    """An error with a stable code, an HTTP status and a Chinese message for the person."""

    def __init__(
        self, status: int, code: str, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}  # extra fields beside code and message, e.g. a photo's problems


class ErrorDetail(BaseModel, extra="allow"):
    code: str = Field(description="stable, for programs")
    message: str = Field(description="中文说明, for the person")


class ErrorBody(BaseModel):
    """Every error answer, whatever the route: `{"error": {"code", "message", ...}}`."""

    error: ErrorDetail


_ERRORS = {
    400: "bad request",
    401: "not logged in, or the login expired",
    403: "not allowed",
    404: "not found",
    405: "method not allowed",
    409: "conflicts with what is stored",
    410: "gone: expired or used up",
    413: "request body too large",
    422: "invalid input",
    423: "locked for a while",
    429: "too many requests",
    500: "unexpected failure (with an error id)",
    503: "the database is unreachable",
}
# Declared on every route, so the OpenAPI description says what an error looks like.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    # an error is JSON even where the route itself answers HTML (the verification page)
    status: {"model": ErrorBody, "description": description, "content": {"application/json": {}}}
    for status, description in _ERRORS.items()
}
# The same description for routes that answer JSON, with the model named once: FastAPI builds a
# validator for every model of every route when an app answers its first request, and thirteen per
# route were most of that time (for each app a test builds, or a worker process starts).
JSON_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    | ({"model": ErrorBody} if status == 400 else {})
    for status, description in _ERRORS.items()
}


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    kind = first.get("type", "")
    location = [part for part in first.get("loc", ()) if isinstance(part, str) and part != "body"]
    label = FIELD_LABELS.get(location[-1], location[-1]) if location else "请求内容"
    if kind == "json_invalid":
        return "请求内容不是有效的 JSON"
    if kind == "missing":
        return f"缺少{label}"
    if kind == "string_unicode":  # a lone surrogate: no text can hold it
        return f"{label}里有无法识别的字符"
    if kind.startswith("string") or kind.endswith("_type"):
        return f"{label}的格式不对"
    if kind == "value_error":
        message = str(first.get("ctx", {}).get("error", "")) or f"{label}不对"
        return message
    return f"{label}不对，请检查后重试"


_STATUS_MESSAGES = {
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限"),
    404: ("not_found", "没有找到要访问的内容"),
    405: ("method_not_allowed", "不支持这种请求方式"),
    413: ("too_large", "提交的内容太大了"),
}


_PROJECT = Path(__file__).resolve().parents[1]
_UNREACHABLE = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNRESET}


def database_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached (refused, gone, locked), not a bug.

    The app talks to no other host by socket, so a connection error is the database's."""
    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        return database_unreachable(exc.exceptions[0])
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, ConnectionError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in _UNREACHABLE


def _where(exc: BaseException) -> str:
    """The innermost line of the project's own code that the failure passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if frame.filename.startswith(str(_PROJECT))] or frames
    if not ours:
        return "?"
    frame = ours[-1]
    name = Path(frame.filename)
    shown = name.relative_to(_PROJECT) if name.is_relative_to(_PROJECT) else name.name
    return f"{shown}:{frame.lineno}"


def _summary(exc: BaseException) -> str:
    """Type and first line of the message, short: chained SQL errors run to kilobytes."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


class UnexpectedErrors:
    """Answers any exception a route lets through, logs it as one line, and lets the connection live.

    Starlette's own last resort re-raises to the server after answering, which logs the traceback
    again and closes the keep-alive connection; this middleware sits inside it and ends the matter."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # the last resort: every failure is answered
            response = _answer_failure(scope, exc)
            if not started:
                await response(scope, receive, send)


def _answer_failure(scope: Scope, exc: Exception) -> JSONResponse:
    error_id = secrets.token_hex(6)
    route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
    context = {"error_id": error_id, "method": scope.get("method"), "path": route, "at": _where(exc)}
    if database_unreachable(exc):
        log.warning("database_unreachable", error=_summary(exc), **context)
        message = f"系统暂时连不上数据库，请过几分钟再试（错误编号 {error_id}）"
        return JSONResponse(
            error_body("database_unavailable", message, error_id=error_id),
            status_code=503,
            headers={"Retry-After": "30"},
        )
    log.error("unexpected_error", error=_summary(exc), **context)
    message = f"{APOLOGY.rstrip('。')}（错误编号 {error_id}）"
    return JSONResponse(error_body("internal_error", message, error_id=error_id), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, **exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_input", _validation_message(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _STATUS_MESSAGES.get(exc.status_code, ("http_error", "请求没有成功"))
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    app.add_middleware(UnexpectedErrors)
