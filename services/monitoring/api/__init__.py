"""Monitoring HTTP API: thin routes over the use cases in handlers/."""

from fastapi import APIRouter

from services.monitoring.api import committees, dashboard, evaluations, products, records, reports

router = APIRouter()
for module in (products, committees, records, evaluations, reports, dashboard):
    router.include_router(module.router)
