"""Liveness and readiness for orchestrators."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.api.deps import Res

router = APIRouter(tags=["ops"])


@router.get(
    "/healthz",
    summary="Liveness",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz() -> dict[str, str]:
    """The process answers; says nothing about its dependencies."""
    return {"status": "ok"}


_READY = {"status": "ok", "database": "ok", "redis": "ok"}


@router.get(
    "/readyz",
    summary="Readiness",
    responses={200: {"content": {"application/json": {"example": _READY}}}},
)
async def readyz(resources: Res) -> JSONResponse:
    """Ready when both the database and Redis answer; 503 otherwise."""
    checks: dict[str, str] = {}
    try:
        async with resources.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the message says which
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await resources.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503
    )
