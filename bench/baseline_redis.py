"""Baseline "redis-only": an endpoint that only runs the Redis claim script, no database.

The ceiling for /next: the same FastAPI stack and Redis client (shared.infra.redis.create_redis
from NEXTCALL_REDIS_URL) around AssignmentQueue.claim, returning the claim as it comes. It
claims from a copy of the main queue (bench/seed.py), so it does the same Lua work as ours.
No authentication: the agent is named by the X-Agent header.

    uvicorn bench.baseline_redis:create_app --factory
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from pydantic import BaseModel
from redis.asyncio import Redis

from bench.seed import LEASE_SECONDS
from services.api.observe import NO_OPENTELEMETRY
from services.queue import AssignmentQueue, Claimed, NotHolder, Placement
from shared.infra.redis import create_redis
from shared.infra.settings import Settings

PARKED = Placement("park")


class LeaseBody(BaseModel):
    lease_id: str


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = create_redis(settings, process_name="bench-redis")
        app.state.redis = redis
        try:
            yield
        finally:
            await redis.aclose()

    app = FastAPI(title="bench baseline redis-only", lifespan=lifespan, telemetry=NO_OPENTELEMETRY)

    def queue(request: Request, assignment_id: int) -> AssignmentQueue:
        redis: Redis = request.app.state.redis
        return AssignmentQueue(redis, assignment_id)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/next/{assignment_id}")
    async def next_customer(
        assignment_id: int, request: Request, x_agent: Annotated[int, Header()]
    ) -> dict[str, Any]:
        result = await queue(request, assignment_id).claim(
            user_id=x_agent, lease_seconds=LEASE_SECONDS
        )
        if isinstance(result, Claimed):
            return {
                "status": "claimed",
                "customer_id": result.customer_id,
                "source": result.source,
                "lease": {"id": result.lease_token, "expires_ms": result.lease_expires_ms},
            }
        return {"status": "empty", "held": result.held}

    @app.post("/release/{assignment_id}/{customer_id}")
    async def release(
        assignment_id: int,
        customer_id: int,
        body: LeaseBody,
        request: Request,
        x_agent: Annotated[int, Header()],
    ) -> dict[str, bool]:
        try:
            await queue(request, assignment_id).release(
                customer_id, user_id=x_agent, lease_token=body.lease_id
            )
        except NotHolder as exc:
            raise HTTPException(409, "you do not hold this customer") from exc
        return {"released": True}

    @app.post("/done/{assignment_id}/{customer_id}")
    async def done(
        assignment_id: int,
        customer_id: int,
        body: LeaseBody,
        request: Request,
        x_agent: Annotated[int, Header()],
    ) -> dict[str, bool]:
        await queue(request, assignment_id).settle(
            customer_id, user_id=x_agent, lease_token=body.lease_id, placement=PARKED
        )
        return {"done": True}

    return app
