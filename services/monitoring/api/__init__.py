"""Monitoring HTTP API: thin routes over the use cases in handlers/."""

from fastapi import APIRouter

from services.monitoring.api import committees, evaluations, outcomes, products, records, reports

router = APIRouter()
for module in (products, committees, records, evaluations, reports, outcomes):
    router.include_router(module.router)
