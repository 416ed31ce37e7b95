"""Sales HTTP API."""

from fastapi import APIRouter

router = APIRouter(prefix="/provinces/{province_code}", tags=["sales"])
