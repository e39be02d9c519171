"""The sandbox ASGI application: the fake API routes, the ``/_sandbox`` routes and the middleware."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from airflow_provider_vimmerse.sandbox import admin, routes
from airflow_provider_vimmerse.sandbox import workflows as workflows  # registers its routes on routing.router
from airflow_provider_vimmerse.sandbox.middleware import SandboxMiddleware
from airflow_provider_vimmerse.sandbox.state import SandboxSettings, SandboxState
from airflow_provider_vimmerse.sandbox.webhooks import deliver_webhooks_forever


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Create the sandbox application; its state is ``app.state.sandbox`` (a :class:`SandboxState`).

    :param settings: the start settings; default :class:`SandboxSettings()`.
    """
    state = SandboxState(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(deliver_webhooks_forever(state))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # No generated /docs, /redoc or /openapi.json: they would describe the stand-in, not the API.
    app = FastAPI(title="Vimmerse sandbox", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = state
    app.include_router(routes.router)  # routing.router: the routes of routes.py and of workflows.py
    app.include_router(admin.router)
    app.add_middleware(SandboxMiddleware, state=state)
    return app
