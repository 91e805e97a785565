"""The Smart MOM HTTP API (FastAPI). Build it with :func:`create_app` (no import-time state)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api.deps import ApiContext
from api.errors import install_error_handlers
from api.routers import (
    audit,
    auth,
    dashboards,
    equipment,
    events,
    instances,
    materials,
    messages,
    orders,
    processes,
    tasks,
    users,
)
from api.routers import lint as modeler_checks
from api.security_headers import SecurityHeaders
from api.web import mount_web_ui
from mom import heap
from mom.db import create_database_engine, create_session_factory
from mom.db.migrate import upgrade_engine
from mom.process_store import ProcessStore
from mom.settings import Settings, load_settings


@asynccontextmanager
async def _serving(_app: FastAPI) -> AsyncIterator[None]:
    """Once per server process, before the first request: settle the heap (see mom.heap)."""
    heap.settle()
    yield


def create_app(settings: Settings | None = None, *, temporal_client: Client | None = None,
               migrate: bool = True) -> FastAPI:
    """The API on ``settings``' database and data directory. ``temporal_client`` is connected on
    first use when not given; ``migrate`` brings the database schema up to date first."""
    cfg = settings or load_settings()
    cfg.signing_secret  # noqa: B018 - read (or made) now: an unusable secret file stops the start, naming it
    engine = create_database_engine(cfg.effective_database_url)
    if migrate:
        upgrade_engine(engine)
    app = FastAPI(title="Smart MOM", version="0.1.0", lifespan=_serving, docs_url=None, redoc_url=None,
                  description="Manufacturing operations as BPMN processes on durable Temporal workflows")
    app.add_middleware(SecurityHeaders)  # CSP, no framing, nosniff, no referrer (api.security_headers)
    app.state.settings = cfg
    app.state.context = ApiContext(settings=cfg, sessions=create_session_factory(engine),
                                   store=ProcessStore.for_settings(cfg), temporal_client=temporal_client)
    if migrate:  # upgrade_engine refreshed the planner statistics: not again at the first request
        app.state.context.statistics_refreshed()
    install_error_handlers(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for module in (auth, users, processes, instances, messages, tasks, orders, equipment, materials, audit, events,
                   dashboards):
        app.include_router(module.router)

    # web UI (issue G): modeler checks, and the built assets of web/ under /ui when present
    app.include_router(modeler_checks.router)
    mount_web_ui(app)
    return app
