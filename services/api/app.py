"""The FastAPI application factory; engines and clients live in the lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from services.api.apidocs import install_docs, operation_id
from services.api.assignments.cache import AssignmentCache
from services.api.auth.cache import PrincipalCache
from services.api.auth.revocations import RevocationListener
from services.api.errors import ERROR_RESPONSES, install_error_handlers
from services.api.examples import document_examples
from services.api.idempotency.middleware import IdempotentWrites
from services.api.idempotency.schema import document_idempotency
from services.api.live.events import StreamHub
from services.api.live.waker import Waker
from services.api.middleware import BodySizeLimit
from services.api.observe import NO_OPENTELEMETRY, Observe, route_names
from services.api.pagination import document_pages
from services.api.problems import document_problems
from services.api.ratelimit.limiter import Limits, RateLimiter
from services.api.ratelimit.middleware import AuthFailureLimit
from services.api.resources import Resources
from services.api.routers import api_router, hot_router, ops_router
from services.api.work.hot import HotPaths
from services.api.work.routes import PREFIX
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.directdb import DirectPool
from shared.infra.logs import configure_logging
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.infra.telemetry import SAMPLE_INTERVAL_S, Sampler, process_gone
from shared.membership.store import open_store
from shared.webhooks.outbox import Subscriptions

# Answer headers a browser app may read besides the CORS-safelisted ones.
CORS_EXPOSED_HEADERS = ["Location", "Retry-After", "Link", "Idempotent-Replayed"]


def create_served_app() -> FastAPI:
    """The app as `nextcall api` serves it: settings from the environment, logging set up
    once in each API process (uvicorn calls this once per process it starts)."""
    settings = Settings()
    configure_logging(settings.log_format_in_use(), level=settings.log_level)
    return create_app(settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings, process_name="api")
        redis = create_redis(settings, process_name="api")
        # Event streams block in XREAD up to the keep-alive: their own client and pool, with a
        # longer read timeout, at most one connection per open stream.
        stream_redis = create_redis(
            settings,
            process_name="api-streams",
            socket_timeout_s=settings.sse_keepalive_s + settings.redis_socket_timeout_s,
            max_connections=settings.sse_max_streams + 4,
        )
        waker = Waker(redis)
        store = await open_store(settings, engine)
        principals = PrincipalCache()
        revocations = RevocationListener(redis, principals)
        app.state.resources = Resources(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            assignments=AssignmentCache(ttl_s=settings.assignment_cache_ttl_s),
            waker=waker,
            streams=StreamHub(
                stream_redis,
                limit=settings.sse_max_streams,
                keepalive_s=settings.sse_keepalive_s,
            ),
            store=store,
            limiter=RateLimiter(redis, Limits.from_settings(settings), settings),
            principals=principals,
            webhooks=Subscriptions(ttl_s=settings.webhook_subscription_cache_ttl_s),
        )
        await waker.start(ready_timeout_s=settings.redis_socket_timeout_s)
        await revocations.start(ready_timeout_s=settings.redis_socket_timeout_s)
        route_names(app)
        # PostgreSQL's store keeps the hot path's own pool: its use is sampled too.
        direct: DirectPool | None = getattr(store, "pool", None)
        sampler = Sampler(
            engine=engine, redis={"api": redis, "api-streams": stream_redis}, direct=direct
        )
        sampling = asyncio.create_task(sampler.run(asyncio.Event(), SAMPLE_INTERVAL_S))
        try:
            yield
        finally:
            sampling.cancel()
            with suppress(asyncio.CancelledError):
                await sampling
            process_gone()
            await revocations.stop()
            await waker.stop()
            await stream_redis.aclose()
            await redis.aclose()
            await store.close()
            await engine.dispose()

    app = FastAPI(
        title="nextcall",
        version="1",
        description="Get the next right customer: queue, CRM and operations API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        telemetry=NO_OPENTELEMETRY,
    )
    install_docs(app)
    install_error_handlers(app)
    document_problems(app)
    document_idempotency(app)
    document_examples(app)
    document_pages(app)

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Next and the holder's writes skip FastAPI's request handling (decision 017).
    app.add_middleware(HotPaths, max_body_bytes=settings.max_body_bytes)
    # In front of the hot paths, so that a key works there too (decision 025).
    app.add_middleware(IdempotentWrites, max_body_bytes=settings.max_body_bytes)
    # In front of the hot paths too; CORS outermost, so that its headers are on every answer.
    app.add_middleware(AuthFailureLimit)
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    # Outermost: every request is counted, timed and logged, the hot paths' too (a CORS
    # preflight included).
    app.add_middleware(Observe)

    app.include_router(hot_router, prefix=PREFIX, responses=ERROR_RESPONSES)
    app.include_router(ops_router)
    app.include_router(api_router, prefix=PREFIX, responses=ERROR_RESPONSES)
    return app
