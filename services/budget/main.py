"""Budget service process: `uvicorn --factory services.budget.main:app`."""

from fastapi import FastAPI

from services.budget import api, consumers, tables
from shared import topics
from shared.service import ServiceSpec, create_app

spec = ServiceSpec(
    name="budget",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router, api.national],
    produces=[topics.BUDGET_PROPOSALS, topics.BUDGET_SPENDING, topics.BUDGET_MATERIALS],
    consumers=consumers.consumers,
    consumes=[topics.SCHEDULING_MARKET_DAYS],
)


def app() -> FastAPI:
    return create_app(spec)
