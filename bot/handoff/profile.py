"""A short profile of the trainee for the console: who he is, his certificates and their status,
enrolments and hours, whether a photo is on file. Read from the backend over HTTP with the service
key, acting for the chat's bound person, as the actions do; shown masked by the desk."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import structlog

from rules.identity import mask_id_number, mask_phone

log = structlog.get_logger(__name__)
NOT_BOUND = "这个聊天还没有绑定账号（学员未验证手机号）"


class BackendProfile:
    def __init__(self, http: httpx.AsyncClient, service_key: str) -> None:
        self.http = http
        self.service_key = service_key

    async def _get(self, path: str, sender_id: str) -> Any:
        headers = {"Authorization": f"Bearer {self.service_key}", "X-Jianpei-Chat": quote(sender_id, safe="")}
        response = await self.http.get(path, headers=headers)
        if response.status_code >= 400:
            return None
        return response.json()

    async def lines(self, sender_id: str) -> list[str]:
        try:
            me = await self._get("/api/registry/me", sender_id)
            if me is None:
                return [NOT_BOUND]
            lines = [
                f"姓名：{me['name']}",
                f"身份证：{mask_id_number(me['id_number'])}　手机：{mask_phone(me['phone'])}",
                f"照片：{'已上传' if me['has_photo'] else '未上传'}",
            ]
            for cert in await self._get("/api/registry/me/certificates", sender_id) or []:
                lines.append(f"证书 {cert['certificate_number']}（{cert['position']}）：{cert['status']}")
            for order in await self._get("/api/learning/enrolments", sender_id) or []:
                lines.append(
                    f"报名 {order['position']} {order['cycle_year']}年：{order['total_hours']}学时，"
                    f"进度{order['progress_percent']}%，{order['status']}"
                )
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
            log.warning("staff_profile_failed", error=type(error).__name__)
            return ["资料暂时读不到"]
        return lines
