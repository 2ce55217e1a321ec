"""The one way actions reach the backend: a typed httpx client.

The composition root hands it in (`configure`): in the embedded runtime it talks to the backend app
in-process (an ASGI transport). Under a standalone action server (`python -m rasa_sdk --actions
actions`) it is built from `JIANPEI_BACKEND_URL` and `JIANPEI_SERVICE_KEY`. Person-scoped calls name
the chat in a header with the service key, and the backend serves them as the person the chat is
bound to: one request each, no login minted. Errors come back as `BackendError` carrying the
backend's own Chinese message, so actions can show it as is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


def _segment(value: str) -> str:
    """A path segment: certificate numbers may hold Chinese characters, never a slash that escapes."""
    return quote(value, safe="")


class BackendError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Certificate:
    name: str
    certificate_number: str
    position: str
    category: str
    status: str
    remark: str


@dataclass(frozen=True)
class Binding:
    bound: bool
    name: str | None
    masked_phone: str | None


class BackendClient:
    def __init__(self, http: httpx.AsyncClient, service_key: str) -> None:
        self.http = http
        self.service_key = service_key  # also seals what slots must not show (actions/sealed.py)
        self._service = {"Authorization": f"Bearer {service_key}"}

    def _chat(self, sender_id: str) -> dict[str, str]:
        """Acting for the person this chat is bound to (the chat id stays out of URLs and logs)."""
        return {**self._service, "X-Jianpei-Chat": quote(sender_id, safe="")}

    async def _call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise BackendError(response.status_code, str(error["code"]), str(error["message"]))
            except (ValueError, KeyError, TypeError):
                raise BackendError(response.status_code, "http_error", "请求没有成功") from None
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    # -- chats ------------------------------------------------------------------------------------

    async def binding(self, sender_id: str) -> Binding:
        data = await self._call("GET", "/api/assistant/binding", headers=self._chat(sender_id))
        return Binding(bound=data["bound"], name=data.get("name"), masked_phone=data.get("masked_phone"))

    async def bind_with_code(self, sender_id: str, phone: str, code: str) -> Binding:
        data = await self._call(
            "POST",
            "/api/assistant/bindings",
            headers=self._service,
            json={"sender_id": sender_id, "phone": phone, "code": code},
        )
        return Binding(bound=data["bound"], name=data.get("name"), masked_phone=data.get("masked_phone"))

    async def bind_with_token(self, sender_id: str, token: str, system: str) -> Binding:
        data = await self._call(
            "POST",
            "/api/assistant/bindings",
            headers=self._service,
            json={"sender_id": sender_id, "token": token, "system": system},
        )
        return Binding(bound=data["bound"], name=data.get("name"), masked_phone=data.get("masked_phone"))

    async def make_chat_link(self, sender_id: str) -> str:
        """A one-time code that binds another chat (Telegram's /start) to this chat's person."""
        data = await self._call("POST", "/api/assistant/chat-links", headers=self._chat(sender_id))
        return str(data["code"])

    async def redeem_chat_link(self, sender_id: str, code: str) -> Binding:
        """This chat bound by another chat's one-time code; a bad, spent or expired one binds nothing."""
        data = await self._call(
            "POST",
            "/api/assistant/chat-links/redeem",
            headers=self._service,
            json={"sender_id": sender_id, "code": code},
        )
        return Binding(bound=data["bound"], name=data.get("name"), masked_phone=data.get("masked_phone"))

    # -- 管理系统 -----------------------------------------------------------------------------------

    async def send_registry_code(self, name: str, id_number: str, phone: str) -> None:
        await self._call(
            "POST", "/api/registry/sms-codes", json={"name": name, "id_number": id_number, "phone": phone}
        )

    async def register(self, name: str, id_number: str, phone: str, code: str) -> str:
        data = await self._call(
            "POST",
            "/api/registry/accounts",
            json={"name": name, "id_number": id_number, "phone": phone, "code": code},
        )
        return str(data["message"])

    async def send_code(self, phone: str, purpose: str) -> None:
        await self._call("POST", "/api/sms/codes", json={"phone": phone, "purpose": purpose})

    async def certificates(self, sender_id: str) -> list[Certificate]:
        data = await self._call("GET", "/api/registry/me/certificates", headers=self._chat(sender_id))
        return [
            Certificate(
                name=row["name"],
                certificate_number=row["certificate_number"],
                position=row["position"],
                category=row["category"],
                status=row["status"],
                remark=row["remark"],
            )
            for row in data
        ]

    async def profile(self, sender_id: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._call("GET", "/api/registry/me", headers=self._chat(sender_id))
        return data

    async def update_profile(self, sender_id: str, **changes: str) -> dict[str, Any]:
        """工作单位 (employer) and 学历 (education) of the person this chat is bound to."""
        data: dict[str, Any] = await self._call(
            "PATCH", "/api/registry/me", headers=self._chat(sender_id), json=changes
        )
        return data

    async def change_password(self, sender_id: str, new_password: str) -> str:
        """The new password of the bound person's accounts; the chat's binding stands for the old one."""
        data = await self._call(
            "PUT",
            "/api/assistant/password",
            headers=self._chat(sender_id),
            json={"new_password": new_password},
        )
        return str(data["message"])

    async def reminders(self, sender_id: str, *, wanted: bool) -> None:
        """恢复提醒 (wanted) or 退订提醒 for the person this chat is bound to."""
        await self._call(
            "DELETE" if wanted else "PUT", "/api/assistant/notices/opt-out", headers=self._chat(sender_id)
        )

    async def check_photo(self, sender_id: str, content: bytes, filename: str) -> dict[str, Any]:
        """The check, and the photo that passes kept by the backend as this chat's pending photo."""
        data: dict[str, Any] = await self._call(
            "POST",
            "/api/assistant/photos",
            headers=self._chat(sender_id),
            files={"file": (filename, content, "application/octet-stream")},
        )
        return data

    async def submit_photo(self, sender_id: str, pending_id: str) -> str:
        data = await self._call(
            "POST", f"/api/assistant/photos/{_segment(pending_id)}/submit", headers=self._chat(sender_id)
        )
        return str(data["message"])

    async def discard_photo(self, sender_id: str, pending_id: str) -> None:
        await self._call(
            "DELETE", f"/api/assistant/photos/{_segment(pending_id)}", headers=self._chat(sender_id)
        )

    # -- 继续教育平台 ---------------------------------------------------------------------------------

    async def send_learning_code(self, phone: str) -> None:
        await self._call("POST", "/api/learning/sms-codes", json={"phone": phone})

    async def register_learning(self, name: str, id_number: str, phone: str, code: str) -> str:
        data = await self._call(
            "POST",
            "/api/learning/accounts",
            json={"name": name, "id_number": id_number, "phone": phone, "code": code},
        )
        return str(data["message"])

    async def learning_login(self, login: str, password: str) -> str:
        data = await self._call("POST", "/api/learning/login", json={"login": login, "password": password})
        return str(data["token"])

    async def learning_certificates(self, sender_id: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._call(
            "GET", "/api/learning/me/certificates", headers=self._chat(sender_id)
        )
        return data

    async def cycles(self) -> dict[str, Any]:
        data: dict[str, Any] = await self._call("GET", "/api/learning/cycles")
        return data

    async def packages(self, sender_id: str, certificate_number: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._call(
            "GET",
            "/api/learning/packages",
            params={"certificate_number": certificate_number},
            headers=self._chat(sender_id),
        )
        return data

    async def enrol(
        self, sender_id: str, certificate_number: str, cycle_year: int, package_code: str
    ) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            "/api/learning/enrolments",
            headers=self._chat(sender_id),
            json={
                "certificate_number": certificate_number,
                "cycle_year": cycle_year,
                "package_code": package_code,
            },
        )
        return data

    async def enrolments(self, sender_id: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._call(
            "GET", "/api/learning/enrolments", headers=self._chat(sender_id)
        )
        return data

    async def player_link(self, sender_id: str, enrolment_id: int) -> str:
        data = await self._call(
            "POST",
            "/api/learning/player-links",
            headers=self._chat(sender_id),
            json={"enrolment_id": enrolment_id},
        )
        return str(data["url"])

    async def start_paper(self, sender_id: str, enrolment_id: int) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/learning/enrolments/{enrolment_id}/assessment",
            headers=self._chat(sender_id),
        )
        return data

    async def answer(self, sender_id: str, enrolment_id: int, index: int, answer: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "PUT",
            f"/api/learning/enrolments/{enrolment_id}/assessment/answers/{index}",
            headers=self._chat(sender_id),
            json={"answer": answer},
        )
        return data

    async def submit_paper(self, sender_id: str, enrolment_id: int) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/learning/enrolments/{enrolment_id}/assessment/submit",
            headers=self._chat(sender_id),
        )
        return data

    # -- documents --------------------------------------------------------------------------------

    async def training_proof(
        self, sender_id: str, certificate_number: str, cycle_year: int
    ) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/documents/me/certificates/{_segment(certificate_number)}/training-proofs/{cycle_year}",
            headers=self._chat(sender_id),
        )
        return data

    async def e_certificate(self, sender_id: str, certificate_number: str, *, renew: bool) -> dict[str, Any]:
        kind = "renewal" if renew else "e-certificate"
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/documents/me/certificates/{_segment(certificate_number)}/{kind}",
            headers=self._chat(sender_id),
        )
        return data


_client: BackendClient | None = None


def configure(client: BackendClient) -> None:
    """The composition root hands in its client (in-process, or pointed at the backend's URL)."""
    global _client
    _client = client


def backend() -> BackendClient:
    """The configured client; under a standalone action server, one built from the environment."""
    global _client
    if _client is None:
        base_url = os.environ.get("JIANPEI_BACKEND_URL")
        key = os.environ.get("JIANPEI_SERVICE_KEY")
        if not base_url or not key:
            raise RuntimeError("a standalone action server needs JIANPEI_BACKEND_URL and JIANPEI_SERVICE_KEY")
        _client = BackendClient(httpx.AsyncClient(base_url=base_url, timeout=30), key)
    return _client
