"""Every router of the API, in one place: what the API exposes takes one read."""

from fastapi import APIRouter

from services.api.health.router import router as health_router
from services.api.work.router import router as work_router

ops_router = APIRouter()
ops_router.include_router(health_router)

api_router = APIRouter()
api_router.include_router(work_router)
