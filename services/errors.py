"""One error shape for the whole API: `{"error": {"code", "message"}}`, the message in plain Chinese.

Errors a user can cause carry their own message; anything else is logged with context and
answered with an apology and the helpline, never with a stack trace.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

HELPLINE = "4009999355"

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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected_error", path=request.url.path, method=request.method)
        message = f"抱歉，系统出了点问题，请稍后再试；着急的话请拨打客服电话 {HELPLINE}"
        return JSONResponse(error_body("internal_error", message), status_code=500)
