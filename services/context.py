"""What every route needs from the running backend: settings, database, clock and SMS gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.clock import Clock
from services.settings import Settings
from services.sms.gateway import SmsGateway


@dataclass
class Backend:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    sms: SmsGateway

    def now(self) -> datetime:
        return self.clock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """All writes inside commit together, or none of them do."""
        async with self.sessions() as session, session.begin():
            yield session


async def get_backend(request: Request) -> Backend:
    """A coroutine, so FastAPI calls it in place instead of handing it to a worker thread."""
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]
