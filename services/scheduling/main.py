"""Scheduling service process: `uvicorn --factory services.scheduling.main:app`."""

from fastapi import FastAPI

from services.scheduling import api, consumers, tables
from shared import topics
from shared.service import ServiceSpec, create_app

spec = ServiceSpec(
    name="scheduling",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router, api.public],
    produces=[topics.SCHEDULING_VENUES, topics.SCHEDULING_PLANS, topics.SCHEDULING_MARKET_DAYS],
    consumers=consumers.consumers,
    consumes=[topics.REGISTRY_PRODUCERS, topics.REGISTRY_PRODUCTS, topics.SALES_RECORDED],
)


def app() -> FastAPI:
    return create_app(spec)
