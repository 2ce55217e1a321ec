"""The assistant app with its scheduler, on the test database and clock; its ticks are run by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from bot.app import create_assistant_app
from bot.scheduler.scheduler import NoticeScheduler
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.chatlinks.keys import service_key
from services.context import Backend
from storage.models import ChatBinding, Notice, RegistryAccount, SmsMessage
from tests.assistant.conftest import interpreter, nlu_data_dir  # noqa: F401
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.documents.trainees import Trainee


def assistant(backend: Backend, interpreter: Interpreter) -> FastAPI:  # noqa: F811
    settings = AssistantSettings(_env_file=None, scheduler="off")  # type: ignore[call-arg]
    return create_assistant_app(backend, settings, interpreter)


@pytest.fixture
async def served(backend: Backend, interpreter: Interpreter) -> AsyncIterator[tuple[str, FastAPI]]:  # noqa: F811
    app = assistant(backend, interpreter)
    async with uvicorn_serving(app) as base:
        yield base, app
    await scheduler_of(app).stop()  # gives the leader lock back for the next test's app


def scheduler_of(app: FastAPI) -> NoticeScheduler:
    found: NoticeScheduler = app.state.scheduler
    return found


def service(backend: Backend) -> dict[str, str]:
    return {"Authorization": f"Bearer {service_key(backend.settings.secret_key)}"}


async def bind(backend: Backend, trainee: Trainee, conversation: str) -> None:
    async with backend.transaction() as session:
        session.add(ChatBinding(sender_id=conversation, person_id=trainee.person_id, bound_at=backend.now()))


async def notices(backend: Backend, person_id: int | None = None) -> list[Notice]:
    async with backend.sessions() as session:
        query = select(Notice).order_by(Notice.id)
        if person_id is not None:
            query = query.where(Notice.person_id == person_id)
        return list(await session.scalars(query))


NOT_CODES = SmsMessage.kind.not_like("code:%")


async def texts_to(backend: Backend, phone: str) -> list[str]:
    """SMS texts to `phone` other than verification codes, oldest first."""
    async with backend.sessions() as session:
        query = select(SmsMessage.text).where(SmsMessage.phone == phone, NOT_CODES).order_by(SmsMessage.id)
        return list(await session.scalars(query))


async def count_sms(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count(SmsMessage.id)).where(NOT_CODES)) or 0)


def china(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of China time, as the UTC instant the clock holds."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


async def registered_at(backend: Backend, person_id: int, at: datetime) -> None:
    """The account's creation on the test clock (the row's own default is the wall clock)."""
    async with backend.transaction() as session:
        await session.execute(
            update(RegistryAccount).where(RegistryAccount.person_id == person_id).values(created_at=at)
        )
