"""Sales service process: `uvicorn --factory services.sales.main:app`."""

from fastapi import FastAPI

from services.sales import api, consumers, tables
from shared import topics
from shared.service import ServiceSpec, create_app

spec = ServiceSpec(
    name="sales",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router],
    produces=[topics.SALES_RECORDED],
    consumers=consumers.consumers,
)


def app() -> FastAPI:
    return create_app(spec)
