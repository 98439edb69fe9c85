"""Composition root: ``build_app(settings)`` wires the users database, the pooled HTTP client to
the services, the Kafka broker feeding the live stream, the routes and the docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as DatabasePoolTimeout

from nyprod_kit.db import make_engine, make_sessionmaker
from nyprod_kit.errors import install_error_handlers
from nyprod_kit.kafka import make_broker
from nyprod_kit.runtime import lifespan as service_lifespan

from . import handlers, proxy, stream
from .api.routes import auth, health, users
from .api.routes import proxy as proxy_routes
from .api.routes import stream as stream_routes
from .db.models import MIGRATIONS
from .db.uow import GatewayUnitOfWork
from .handlers import StartupRefused
from .limits import BodySizeLimit
from .openapi import ApiDocs, custom_generate_unique_id, install_docs
from .security import TokenReader
from .settings import Settings
from .user_cache import UserCache
from .web_client import mount_web_client

log = logging.getLogger(__name__)

# the order of the sections in /docs
OPENAPI_TAGS = [
    {"name": "auth", "description": "log in: a token for every other call"},
    {"name": "projects"},
    {"name": "units"},
    {"name": "prospects"},
    {"name": "bookings"},
    {"name": "buyers"},
    {"name": "stream", "description": "live updates (Server-Sent Events)"},
    {"name": "users", "description": "user management (admin)"},
    {"name": "health"},
]


def ensure_sqlite_directory(url: str) -> None:
    """A SQLite file's folder (./.run by default) must exist before the first connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="gateway")
    hub = stream.Hub(settings.stream_queue_size)
    stream.register(broker, hub)

    def uow_factory() -> GatewayUnitOfWork:
        return GatewayUnitOfWork(sessionmaker)

    app: FastAPI

    async def keep_docs_fresh() -> None:
        await docs.keep_fresh(app.state.http, settings.openapi_retry_seconds, settings.openapi_refresh_seconds)

    base = service_lifespan(
        settings=settings, engine=engine, broker=broker, relay=None, migrations=MIGRATIONS, background=[keep_docs_fresh]
    )

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        problem = handlers.configuration_problem(settings)
        if problem:
            raise StartupRefused(problem)
        async with proxy.make_client(settings) as http, proxy.make_long_poll_client(settings) as long_poll_http:
            app.state.http = http
            app.state.long_poll_http = long_poll_http
            async with base(app):
                await handlers.create_initial_users(uow_factory(), settings)
                try:
                    yield
                finally:
                    hub.close_all()

    app = FastAPI(
        title="Nyprod API",
        version="1.0.0",
        description="Booking of new-build homes. Log in with POST /api/v1/auth/token, then send "
        "`Authorization: Bearer <token>`.",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=custom_generate_unique_id,
        openapi_tags=OPENAPI_TAGS,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.broker = broker
    app.state.hub = hub
    app.state.uow_factory = uow_factory
    app.state.user_cache = UserCache(settings.user_cache_seconds)
    app.state.tokens = TokenReader(settings.secret_key)
    install_error_handlers(app)

    # Registered for its own class, so Starlette answers it inside the app; the catch-all below
    # runs in the outermost middleware, which re-raises after answering and so has the server
    # log a traceback for every request that waited in vain for a database connection.
    @app.exception_handler(DatabasePoolTimeout)
    async def _database_busy(request: Request, exc: DatabasePoolTimeout) -> JSONResponse:
        log.warning("no database connection free for %s %s: %s", request.method, request.url.path, str(exc).split(" (")[0])
        return JSONResponse({"detail": "the gateway is busy, try again shortly"}, status_code=503, headers={"retry-after": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected failure: %s: %s", type(exc).__name__, exc)
        return JSONResponse({"detail": "the gateway could not handle the request; try again shortly"}, status_code=503)

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(stream_routes.router)
    app.include_router(proxy_routes.router)

    docs = ApiDocs(app.openapi, settings.service_urls())
    app.state.docs = docs
    install_docs(app, docs)
    mount_web_client(app, settings.web_dir)
    return app
