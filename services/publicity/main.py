"""Publicity service process: `uvicorn --factory services.publicity.main:app`. Read-only, no login: the
programme's public pages under /p/, from its own read models of the registry's and scheduling's events."""

from fastapi import FastAPI

from services.publicity import api, consumers, tables
from services.publicity.config import PublicitySettings
from shared import topics
from shared.service import ServiceSpec, create_app

spec = ServiceSpec(
    name="publicity",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router],
    produces=[],
    consumers=consumers.consumers,
    consumes=[
        topics.REGISTRY_PRODUCTS,
        topics.REGISTRY_PRODUCERS,
        topics.SCHEDULING_VENUES,
        topics.SCHEDULING_PLANS,
        topics.SCHEDULING_MARKET_DAYS,
    ],
)


def app() -> FastAPI:
    return create_app(spec, PublicitySettings(service_name=spec.name))
