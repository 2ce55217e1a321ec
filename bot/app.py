"""One ASGI app for `jianpei serve`: the chat channels (REST webhook, web chat at `/`) in front of the
backend app, with the assistant's backend routes (/api/assistant) added to the backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import actions.client
import actions.links
import nlu
from bot.channels.mailbox import Mailbox
from bot.channels.outbound import Outbound
from bot.channels.pace import SharedPace
from bot.channels.remote import RemoteRasa
from bot.channels.rest import Handler, Transcript, rest_router
from bot.channels.telegram.channel import TelegramChannel, build_channel
from bot.channels.telegram.webhook import telegram_router
from bot.channels.web import web_router
from bot.channels.wechat import channel as wechat_channel
from bot.channels.wechat.webhook import wechat_router
from bot.handoff.accounts import StaffAccounts
from bot.handoff.console import console_router
from bot.handoff.desk import Desk, load_replies
from bot.handoff.hours import WorkingHours
from bot.handoff.profile import BackendProfile
from bot.handoff.status import ConversationStatus
from bot.handoff.telegram_topics import TelegramTopics
from bot.runtime.assistant import Assistant
from bot.runtime.domain import load_domain
from bot.runtime.executor import ActionRunner
from bot.runtime.rules import RuleBook, load_rules
from bot.runtime.store import TrackerStore
from bot.scheduler.client import NoticesClient
from bot.scheduler.delivery import Delivery
from bot.scheduler.leader import TELEGRAM_POLL_KEY, Leadership
from bot.scheduler.scheduler import NoticeScheduler
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.app import build_backend, create_app
from services.chatlinks.keys import service_key
from services.context import Backend
from services.errors import JSON_ERROR_RESPONSES, install_error_handlers
from services.limits import BodySizeLimit
from services.settings import get_settings
from services.slow_bodies import BodyDeadline


def _interpreter(backend: Backend, settings: AssistantSettings) -> Interpreter:
    return nlu.load_interpreter(backend.settings.data_dir / "models", settings.rasa_nlu_url)


def build_custody(backend: Backend, settings: AssistantSettings) -> ConversationStatus:
    return ConversationStatus(
        backend.engine,
        locked=TrackerStore(backend.engine, backend.sessions, load_domain()).locked,
        hours=WorkingHours.parse(settings.staff_hours, settings.staff_days),
        photos=backend.settings.data_dir / "handoff_photos",
    )


def build_assistant(
    backend: Backend,
    settings: AssistantSettings,
    interpreter: Interpreter | None = None,
    custody: ConversationStatus | None = None,
) -> Assistant:
    domain = load_domain()
    return Assistant(
        domain=domain,
        rules=RuleBook(load_rules()),
        store=TrackerStore(backend.engine, backend.sessions, domain),
        custody=custody or build_custody(backend, settings),
        runner=ActionRunner(domain),
        interpreter=interpreter or _interpreter(backend, settings),
        clock=backend.now,
        max_parallel_turns=settings.max_parallel_turns,
    )


async def _no_transcript(_sender_id: str, _limit: int) -> None:
    return None


def create_assistant_app(
    backend: Backend | None = None,
    settings: AssistantSettings | None = None,
    interpreter: Interpreter | None = None,
) -> FastAPI:
    backend = backend or build_backend(get_settings())
    settings = settings or AssistantSettings()
    remote = RemoteRasa(settings.rasa_url) if settings.rasa_url else None
    if remote is None:
        interpreter = interpreter or _interpreter(backend, settings)
    model = f"rasa:{settings.rasa_url}" if remote else interpreter.version if interpreter else None
    backend_app = create_app(backend, nlu_version=lambda: model)
    to_backend = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=backend_app), base_url=backend.settings.public_url, timeout=60
    )
    custody = build_custody(backend, settings)
    handler: Handler
    transcript: Transcript
    if remote is not None:
        handler = remote.handle
        transcript = _no_transcript  # the external Rasa server keeps the conversation
    else:
        actions.client.configure(
            actions.client.BackendClient(to_backend, service_key(backend.settings.secret_key))
        )
        assistant = build_assistant(backend, settings, interpreter, custody)
        handler = assistant.handle
        transcript = assistant.store.transcript
    mailbox = Mailbox(backend.sessions, backend.now)
    outbound = Outbound()
    outbound.register(mailbox)
    telegram: TelegramChannel | None = None
    if settings.telegram_token:
        telegram = build_channel(
            token=settings.telegram_token,
            api_base=settings.telegram_api_base,
            handle=handler,
            sessions=backend.sessions,
            clock=backend.now,
            http=to_backend,
            own_url=lambda: backend.settings.public_url,
            per_second=settings.telegram_rate,
            per_chat_per_second=settings.telegram_chat_rate,
            send_timeout=settings.telegram_send_timeout,
            lease_seconds=settings.telegram_lease_seconds,
        )
        outbound.register(telegram.output)
    if remote is None:  # the actions run here: their t.me links name this bot, if there is one
        actions.links.configure(telegram.username if telegram is not None else None)
    notices = NoticesClient(to_backend, service_key(backend.settings.secret_key))
    scheduler = NoticeScheduler(
        notices,
        Delivery(
            notices, outbound, load_domain(), sms_pace=SharedPace(backend.sessions, "sms", settings.sms_rate)
        ),
        Leadership(backend.engine),
        every_seconds=settings.notices_every_seconds,
        batch=settings.notices_batch,
        lease_seconds=settings.notices_lease_seconds,
    )
    wechat: wechat_channel.WechatChannel | None = None
    if settings.wechat_app_id:
        wechat = wechat_channel.build_channel(
            app_id=settings.wechat_app_id,
            secret=settings.wechat_app_secret or "",
            api_base=settings.wechat_api_base,
            template_id=settings.wechat_template_id,
            handle=handler,
            sessions=backend.sessions,
            clock=backend.now,
            http=to_backend,
            lease_seconds=settings.wechat_lease_seconds,
        )
        outbound.register(wechat.output, SharedPace(backend.sessions, "wechat", settings.wechat_rate))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if telegram is not None and settings.telegram_mode != "off":
            polling = settings.telegram_mode == "polling"
            poller = Leadership(backend.engine, TELEGRAM_POLL_KEY, "telegram_poller") if polling else None
            await telegram.start(
                polling=polling, sweep_seconds=settings.telegram_lease_seconds, leader=poller
            )
        if topics is not None:
            topics.start()
        if wechat is not None:
            await wechat.start(sweep_seconds=settings.wechat_lease_seconds)
        if settings.scheduler == "auto":
            scheduler.start()  # it ticks only while this process holds the leader lock
        yield
        await scheduler.stop()
        if topics is not None:
            await topics.stop()
        if telegram is not None:
            await telegram.stop()
        if wechat is not None:
            await wechat.stop()
        await to_backend.aclose()
        if remote is not None:
            await remote.http.aclose()
        await backend.engine.dispose()

    app = FastAPI(
        title="建培助手 jianpei",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        responses=JSON_ERROR_RESPONSES,
    )
    app.state.backend = backend
    app.state.handle = handler
    app.state.outbound = outbound
    app.state.scheduler = scheduler
    app.state.telegram = telegram
    app.state.wechat = wechat
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        json_limit=settings.webhook_max_bytes,
        upload_limit=settings.webhook_max_bytes,
        csv_limit=backend.settings.max_csv_bytes,
    )
    app.add_middleware(BodyDeadline, seconds=backend.settings.request_body_timeout_seconds)
    app.include_router(rest_router(handler, mailbox, transcript))
    app.include_router(web_router())
    desk = Desk(
        backend.engine,
        custody,
        outbound,
        clock=backend.now,
        replies=load_replies(settings.staff_replies),
        profile=BackendProfile(to_backend, service_key(backend.settings.secret_key)).lines,
    )
    app.include_router(console_router(StaffAccounts(backend.engine), desk, backend.now))
    if telegram is not None:
        telegram.left = desk.trainee_left  # a trainee who blocks the bot leaves his hand-off
    if wechat is not None:
        wechat.left = desk.trainee_left  # one who unfollows, likewise
    topics: TelegramTopics | None = None
    if telegram is not None and settings.telegram_staff_chat:
        topics = TelegramTopics(
            backend.engine, desk, telegram.sender, chat_id=settings.telegram_staff_chat, clock=backend.now
        )
        telegram.staff_room = topics
    app.state.topics = topics
    if telegram is not None and settings.telegram_mode == "webhook":
        app.include_router(telegram_router(telegram, settings.telegram_webhook_secret))
    if wechat is not None:
        app.include_router(
            wechat_router(
                wechat, settings.wechat_token or "", settings.wechat_app_id or "", settings.wechat_aes_key
            )
        )
    app.mount("/", backend_app)
    backend_app.openapi = lambda: _described(app, backend_app)  # type: ignore[method-assign]
    return app


def _described(app: FastAPI, backend_app: FastAPI) -> dict[str, Any]:
    """One OpenAPI description of everything `jianpei serve` answers: the backend's routes (served
    at /openapi.json and /docs by the backend app) and the chat channels in front of it."""
    if backend_app.openapi_schema is None:
        described = get_openapi(
            title=app.title,
            version=backend_app.version,
            description=backend_app.description,
            routes=[*app.routes, *backend_app.routes],
        )
        backend_app.openapi_schema = described
    return backend_app.openapi_schema
