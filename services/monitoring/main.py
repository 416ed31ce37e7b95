"""Monitoring service process: `uvicorn --factory services.monitoring.main:app`."""

from fastapi import FastAPI

from services.monitoring import api, consumers, tables
from services.monitoring.config import MonitoringSettings
from shared import topics
from shared.service import ServiceSpec, create_app

spec = ServiceSpec(
    name="monitoring",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    routers=[api.router],
    produces=[topics.MONITORING_EVALUATIONS],
    consumers=consumers.consumers,
    consumes=[
        topics.REGISTRY_PRODUCTS,
        topics.REGISTRY_PRODUCERS,
        topics.REGISTRY_MENTORING,
        topics.SCHEDULING_VENUES,
        topics.SCHEDULING_PLANS,
        topics.SCHEDULING_MARKET_DAYS,
        topics.SALES_RECORDED,
        topics.BUDGET_PROPOSALS,
        topics.BUDGET_SPENDING,
        topics.BUDGET_MATERIALS,
    ],
)


def app() -> FastAPI:
    return create_app(spec, MonitoringSettings(service_name=spec.name))
