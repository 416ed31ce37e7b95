"""Sales service process: `uvicorn --factory services.sales.main:app`."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, FastAPI

from services.sales import api, consumers, tables
from services.sales.config import SalesSettings
from services.sales.identity import IntegrationClients
from shared import topics
from shared.service import ServiceSpec, create_app


@contextlib.asynccontextmanager
async def integration_clients(app: FastAPI) -> AsyncIterator[None]:
    """The adapter that makes each POS integration's client at the identity provider (None: not
    configured)."""
    async with httpx.AsyncClient(timeout=30) as http:
        app.state.integration_clients = IntegrationClients.of(SalesSettings.of(app.state.settings), http)
        yield


spec = ServiceSpec(
    name="sales",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router, APIRouter(lifespan=integration_clients)],
    produces=[topics.SALES_RECORDED],
    consumers=consumers.consumers,
    background=consumers.background,  # the held sales' retry
    consumes=[topics.REGISTRY_PRODUCTS, topics.SCHEDULING_MARKET_DAYS, topics.SALES_INGRESS],
)


def app() -> FastAPI:
    return create_app(spec, SalesSettings(service_name=spec.name))
