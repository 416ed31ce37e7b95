"""Sales service process: `uvicorn --factory services.sales.main:app`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from services.sales import api, consumers, handlers, tables
from services.sales.config import SalesSettings
from shared import topics
from shared.failures import Status
from shared.service import ServiceSpec, create_app


@contextlib.asynccontextmanager
async def held_sales_retry(app: FastAPI) -> AsyncIterator[None]:
    """Re-evaluates held POS sales in the background while the service runs (a router's lifespan runs
    inside the service's own, after its database and broker are set up)."""
    status = Status("held-sales", "worker")
    app.state.statuses.append(status)
    task = asyncio.create_task(handlers.retry_held_forever(
        app.state.db, app.state.broker, SalesSettings.of(app.state.settings), status), name="held-sales-retry")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


spec = ServiceSpec(
    name="sales",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router, APIRouter(lifespan=held_sales_retry)],
    produces=[topics.SALES_RECORDED],
    consumers=consumers.consumers,
)


def app() -> FastAPI:
    return create_app(spec, SalesSettings(service_name=spec.name))
