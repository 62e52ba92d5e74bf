"""Baseline "floor": a do-nothing POST endpoint behind the same FastAPI stack.

What 2 uvicorn workers can serve at all on this machine: the same server options, the same
body-size middleware as the real app, no database and no Redis. Every figure of the others
is bounded by it.

    uvicorn bench.baseline_floor:create_app --factory
"""

from fastapi import FastAPI

from services.api.middleware import BodySizeLimit
from services.api.observe import NO_OPENTELEMETRY
from shared.infra.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="bench baseline floor", telemetry=NO_OPENTELEMETRY)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/noop")
    async def noop() -> dict[str, bool]:
        return {"ok": True}

    return app
