"""The backend as one FastAPI app: a router per system, one error shape, /health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from services.admin_api import router as admin_router
from services.chatlinks.api import router as chatlinks_router
from services.clock import Clock, system_clock
from services.context import Backend
from services.documents.api import router as documents_router
from services.errors import JSON_ERROR_RESPONSES, database_unreachable, install_error_handlers
from services.learning import router as learning_router
from services.limits import BodySizeLimit
from services.notices.api import admin_router as broadcasts_router
from services.notices.api import router as notices_router
from services.registry.api import router as registry_router
from services.settings import Settings, get_settings
from services.sms.api import router as sms_router
from services.sms.gateway import OutboxGateway, SmsGateway
from storage.db import create_engine, session_factory
from storage.migrate import current_revision, head_revisions

VERSION = "0.1.0"
# Swagger UI and ReDoc come from a package, not a CDN: /docs works on a machine with no internet.
DOCS_ASSETS = "/docs-assets"
PHOTO_UPLOAD_LIMIT = 20 * 1024 * 1024


class Health(BaseModel):
    status: str
    version: str
    schema_version: str | None
    schema_up_to_date: bool
    nlu_model: str | None


def build_backend(
    settings: Settings, *, clock: Clock = system_clock, sms: SmsGateway | None = None
) -> Backend:
    engine = create_engine(
        settings.resolved_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    return Backend(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
        sms=sms or OutboxGateway(),
    )


def create_app(
    backend: Backend | None = None, nlu_version: Callable[[], str | None] = lambda: None
) -> FastAPI:
    """The ASGI app; tests hand in a backend with their own database and clock.

    `nlu_version` tells /health which NLU model answers chats; the backend itself has none, the
    assistant that serves it in front passes its own."""
    backend = backend or build_backend(get_settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await backend.engine.dispose()

    app = FastAPI(
        title="建培助手 jianpei backend",
        version=VERSION,
        description="管理系统 (registry) and 继续教育平台 (learning) of the certificate-renewal process.",
        lifespan=lifespan,
        responses=JSON_ERROR_RESPONSES,  # the HTML verification page declares its own
        docs_url=None,
        redoc_url=None,
    )
    app.state.backend = backend
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        json_limit=backend.settings.max_json_bytes,
        upload_limit=PHOTO_UPLOAD_LIMIT,
        csv_limit=backend.settings.max_csv_bytes,
    )
    app.include_router(registry_router)
    app.include_router(sms_router)
    app.include_router(admin_router)
    app.include_router(documents_router)
    app.include_router(learning_router)
    app.include_router(chatlinks_router)
    app.include_router(notices_router)
    app.include_router(broadcasts_router)
    install_docs(app)

    @app.get(
        "/health",
        response_model=Health,
        tags=["health"],
        responses={503: {"model": Health, "description": "the database cannot be reached"}},
    )
    async def health(response: Response) -> Health:
        """Up, with the database schema revision and the NLU model version; 503 and status
        `database_down` while the database cannot be reached, so a load balancer stops sending."""
        try:
            schema = await current_revision(backend.engine)
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            response.status_code = 503
            return Health(
                status="database_down",
                version=VERSION,
                schema_version=None,
                schema_up_to_date=False,
                nlu_model=nlu_version(),
            )
        return Health(
            status="ok",
            version=VERSION,
            schema_version=schema,
            schema_up_to_date=schema == head_revisions(),
            nlu_model=nlu_version(),
        )

    return app


def install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc with their scripts served from this app."""
    app.mount(
        DOCS_ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets"
    )

    def assets(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{DOCS_ASSETS}"

    def openapi_url(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets(request)}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets(request)}/swagger-ui.css",
            swagger_favicon_url=f"{assets(request)}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets(request)}/redoc.standalone.js",
            redoc_favicon_url=f"{assets(request)}/favicon.png",
            with_google_fonts=False,
        )
