"""Registry service process: `uvicorn --factory services.registry.main:app`."""

from fastapi import FastAPI

from services.registry import api, consumers, tables
from shared import topics
from shared.service import ServiceSpec, create_app

spec = ServiceSpec(
    name="registry",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router, api.national, api.public_photos],
    produces=[topics.REGISTRY_PRODUCERS, topics.REGISTRY_PRODUCTS, topics.REGISTRY_MENTORING],
    consumers=consumers.consumers,
)


def app() -> FastAPI:
    return create_app(spec)
