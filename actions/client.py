"""The one way actions reach the backend: a typed httpx client.

In the embedded runtime it talks to the backend app in-process (an ASGI transport); as a standalone
action server it talks to `JIANPEI_BACKEND_URL`. Errors come back as `BackendError` carrying the
backend's own Chinese message, so actions can show it as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from bot.chat_api import service_key

System = Literal["registry", "learning"]


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
    def __init__(self, http: httpx.AsyncClient, secret_key: str) -> None:
        self.http = http
        self._service = {"Authorization": f"Bearer {service_key(secret_key)}"}

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
        data = await self._call("GET", f"/api/assistant/bindings/{sender_id}", headers=self._service)
        return Binding(bound=data["bound"], name=data.get("name"), masked_phone=data.get("masked_phone"))

    async def bind_with_code(self, sender_id: str, phone: str, code: str) -> Binding:
        data = await self._call(
            "POST",
            "/api/assistant/bindings",
            headers=self._service,
            json={"sender_id": sender_id, "phone": phone, "code": code},
        )
        return Binding(bound=data["bound"], name=data.get("name"), masked_phone=data.get("masked_phone"))

    async def bind_with_token(self, sender_id: str, token: str, system: System) -> Binding:
        data = await self._call(
            "POST",
            "/api/assistant/bindings",
            headers=self._service,
            json={"sender_id": sender_id, "token": token, "system": system},
        )
        return Binding(bound=data["bound"], name=data.get("name"), masked_phone=data.get("masked_phone"))

    async def _as_person(self, sender_id: str, system: System = "registry") -> dict[str, str]:
        data = await self._call(
            "POST",
            "/api/assistant/tokens",
            headers=self._service,
            json={"sender_id": sender_id, "system": system},
        )
        return {"Authorization": f"Bearer {data['token']}"}

    # -- 管理系统 -----------------------------------------------------------------------------------

    async def register(self, name: str, id_number: str, phone: str) -> str:
        data = await self._call(
            "POST", "/api/registry/accounts", json={"name": name, "id_number": id_number, "phone": phone}
        )
        return str(data["message"])

    async def send_code(self, phone: str, purpose: str) -> None:
        await self._call("POST", "/api/sms/codes", json={"phone": phone, "purpose": purpose})

    async def certificates(self, sender_id: str) -> list[Certificate]:
        data = await self._call(
            "GET", "/api/registry/me/certificates", headers=await self._as_person(sender_id)
        )
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
        data: dict[str, Any] = await self._call(
            "GET", "/api/registry/me", headers=await self._as_person(sender_id)
        )
        return data

    async def check_photo(self, content: bytes, filename: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            "/api/assistant/photo-checks",
            headers=self._service,
            files={"file": (filename, content, "application/octet-stream")},
        )
        return data

    async def upload_registry_photo(self, sender_id: str, content: bytes, filename: str) -> str:
        data = await self._call(
            "PUT",
            "/api/registry/me/photo",
            headers=await self._as_person(sender_id),
            files={"file": (filename, content, "image/jpeg" if content[:2] == b"\xff\xd8" else "image/png")},
        )
        return str(data["message"])

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
            "GET", "/api/learning/me/certificates", headers=await self._as_person(sender_id, "learning")
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
            headers=await self._as_person(sender_id, "learning"),
        )
        return data

    async def enrol(
        self, sender_id: str, certificate_number: str, cycle_year: int, package_code: str
    ) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            "/api/learning/enrolments",
            headers=await self._as_person(sender_id, "learning"),
            json={
                "certificate_number": certificate_number,
                "cycle_year": cycle_year,
                "package_code": package_code,
            },
        )
        return data

    async def enrolments(self, sender_id: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._call(
            "GET", "/api/learning/enrolments", headers=await self._as_person(sender_id, "learning")
        )
        return data

    async def player_link(self, sender_id: str, enrolment_id: int) -> str:
        data = await self._call(
            "POST",
            "/api/learning/player-links",
            headers=await self._as_person(sender_id, "learning"),
            json={"enrolment_id": enrolment_id},
        )
        return str(data["url"])

    async def start_paper(self, sender_id: str, enrolment_id: int) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/learning/enrolments/{enrolment_id}/assessment",
            headers=await self._as_person(sender_id, "learning"),
        )
        return data

    async def answer(self, sender_id: str, enrolment_id: int, index: int, answer: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "PUT",
            f"/api/learning/enrolments/{enrolment_id}/assessment/answers/{index}",
            headers=await self._as_person(sender_id, "learning"),
            json={"answer": answer},
        )
        return data

    async def submit_paper(self, sender_id: str, enrolment_id: int) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/learning/enrolments/{enrolment_id}/assessment/submit",
            headers=await self._as_person(sender_id, "learning"),
        )
        return data

    # -- documents --------------------------------------------------------------------------------

    async def training_proof(
        self, sender_id: str, certificate_number: str, cycle_year: int
    ) -> dict[str, Any]:
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/documents/me/certificates/{_segment(certificate_number)}/training-proofs/{cycle_year}",
            headers=await self._as_person(sender_id, "learning"),
        )
        return data

    async def e_certificate(self, sender_id: str, certificate_number: str, *, renew: bool) -> dict[str, Any]:
        kind = "renewal" if renew else "e-certificate"
        data: dict[str, Any] = await self._call(
            "POST",
            f"/api/documents/me/certificates/{quote(certificate_number, safe='')}/{kind}",
            headers=await self._as_person(sender_id, "registry"),
        )
        return data


_client: BackendClient | None = None


def configure(client: BackendClient) -> None:
    """The embedded runtime hands in its in-process client."""
    global _client
    _client = client


def backend() -> BackendClient:
    """The configured client; under a standalone action server, one built from the environment."""
    global _client
    if _client is None:
        from bot.settings import AssistantSettings
        from services.settings import get_settings

        base_url = AssistantSettings().backend_url or get_settings().public_url
        _client = BackendClient(httpx.AsyncClient(base_url=base_url, timeout=30), get_settings().secret_key)
    return _client
