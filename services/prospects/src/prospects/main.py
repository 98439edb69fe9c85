"""Composition root: ``build_app(settings)`` wires engine, broker, relay, consumers and routes."""

from __future__ import annotations

from fastapi import FastAPI

from nyprod_kit.db import background_pool, make_engine, make_sessionmaker
from nyprod_kit.errors import install_error_handlers
from nyprod_kit.health import health_router
from nyprod_kit.kafka import make_broker
from nyprod_kit.outbox import OutboxRelay
from nyprod_kit.runtime import lifespan

from .api.routes import router
from .db.models import MIGRATIONS, inbox, outbox
from .db.uow import ProspectsUnitOfWork
from .deadlines import deadline_sweeper
from .messaging import consumers
from .settings import Settings
from .waiting import BookingWaiters


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    background_engine = make_engine(settings.database_url, **background_pool(settings.consumer_workers))
    background_sessions = make_sessionmaker(background_engine)
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="prospects")
    relay = OutboxRelay(background_engine, outbox, broker, sweep_seconds=settings.outbox_sweep_seconds)
    waiters = BookingWaiters()

    def uow_factory() -> ProspectsUnitOfWork:
        return ProspectsUnitOfWork(sessionmaker, outbox, inbox, relay, waiters=waiters)

    def background_uow() -> ProspectsUnitOfWork:
        return ProspectsUnitOfWork(background_sessions, outbox, inbox, relay, waiters=waiters)

    consumers.register(broker, background_uow, **settings.consumer_options())
    booking_listener = consumers.listen_for_settled_bookings(broker, waiters)

    app = FastAPI(
        title="Nyprod prospects service",
        version="1.0.0",
        lifespan=lifespan(
            settings=settings,
            engine=engine,
            broker=broker,
            relay=relay,
            migrations=MIGRATIONS,
            background=[deadline_sweeper(background_uow, settings.booking_sweep_seconds)],
            background_engine=background_engine,
        ),
    )
    app.state.uow_factory = uow_factory
    app.state.relay = relay
    app.state.waiters = waiters
    app.state.booking_listener = booking_listener
    install_error_handlers(app)
    app.include_router(health_router())
    app.include_router(router)
    return app
