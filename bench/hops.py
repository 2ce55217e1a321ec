"""Backend requests and login-token rows per turn of the enrolment flow (报名学习 → certificate →
cycle → package → 确认报名), the assistant running in-process on a fresh SQLite database.

Every request the actions make to the backend is counted at the actions' HTTP client; token rows are
counted in `auth_tokens` after each turn."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

import actions.client
from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from services.app import build_backend
from services.registry.demo import load_demo_data
from services.settings import Settings
from storage import migrate
from storage.models import AuthToken
from tests.assistant.stories import bind_demo_trainee, register_demo_on_platform
from tests.learning.conftest import load_catalog, write_catalog


async def run() -> list[tuple[str, int, int]]:
    with tempfile.TemporaryDirectory(prefix="jianpei-hops-") as folder:
        settings = Settings(env="test", data_dir=Path(folder), _env_file=None)  # a key of its own
        backend = build_backend(settings)
        await migrate.upgrade(backend.engine)
        await load_demo_data(backend)
        await load_catalog(backend, write_catalog(Path(folder) / "catalog"))
        app = create_assistant_app(backend, AssistantSettings(_env_file=None))
        requests: list[str] = []

        async def count(request: httpx.Request) -> None:
            requests.append(f"{request.method} {request.url.path}")

        actions.client.backend().http.event_hooks["request"].append(count)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
            await bind_demo_trainee(http, backend, "rest:hops")
            await register_demo_on_platform(http, backend)
            year = backend.now().year
            steps = [
                ("报名学习", "/enroll_course"),
                ("certificate", '/enroll_course{"certificate_number":"221175"}'),
                ("cycle", f'/enroll_course{{"certificate_number":"221175","year":"{year}"}}'),
                (
                    "package",
                    f'/enroll_course{{"certificate_number":"221175","year":"{year}","package_code":"PKG-JX"}}',
                ),
                (
                    "确认报名",
                    f'/enroll_course{{"certificate_number":"221175","year":"{year}",'
                    '"package_code":"PKG-JX","answer":"confirm"}',
                ),
            ]
            figures = []
            for label, message in steps:
                requests.clear()
                before = await _tokens(backend)
                answer: Any = (
                    await http.post("/webhooks/rest/webhook", json={"sender": "hops", "message": message})
                ).json()
                if label == "确认报名" and "报名成功" not in str(answer):
                    raise RuntimeError(f"enrolment did not happen: {answer}")
                figures.append((label, len(requests), await _tokens(backend) - before))
        await backend.engine.dispose()
        return figures


async def _tokens(backend: Any) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuthToken)) or 0)


def main() -> None:
    print("enrolment flow in chat, one turn each: backend requests / new auth_tokens rows")
    figures = asyncio.run(run())
    for label, requests, tokens in figures:
        print(f"  {label:<12} {requests:3d} requests  {tokens:3d} token rows")
    requests, tokens = sum(f[1] for f in figures), sum(f[2] for f in figures)
    print(f"  {'total':<12} {requests:3d} requests  {tokens:3d} token rows")


if __name__ == "__main__":
    main()
