"""Real PostgreSQL and Redis, started by scripts/test and named by NEXTCALL_TEST_* variables.

Migrations run once per session; every test starts from empty tables and an empty Redis db.
A Redis Cluster (3 masters, 3 replicas) runs beside the single Redis: `cluster_settings` name
it, and the queue engine's tests run on both (tests/queue/conftest.py).
"""

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.api.app import create_app
from shared.infra.db import create_engine as create_async_engine
from shared.infra.db import create_sessionmaker
from shared.infra.migrate import upgrade
from shared.infra.redis import create_redis
from shared.infra.settings import Environment, Settings
from shared.models import Base


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the tests with scripts/test")
    return value


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        env=Environment.testing,
        database_url=_required("NEXTCALL_TEST_DATABASE_URL"),
        redis_url=_required("NEXTCALL_TEST_REDIS_URL"),
        assignment_cache_ttl_s=0.0,
    )


@pytest.fixture(scope="session")
def cluster_settings(settings: Settings) -> Settings:
    """The same, with the queues on the Redis Cluster and the jobs on the single Redis."""
    return settings.model_copy(
        update={
            "redis_url": _required("NEXTCALL_TEST_REDIS_CLUSTER_URL"),
            "jobs_redis_url": settings.redis_url,
        }
    )


@pytest.fixture(scope="session")
async def cluster_client(cluster_settings: Settings) -> AsyncIterator[Redis]:
    """One cluster client for the session: a new one reads the cluster's slots and commands
    first (half a second), so tests share this one and only flush it."""
    client = create_redis(cluster_settings, process_name="tests")
    yield client
    await client.aclose()


async def emptied(settings: Settings) -> Redis:
    """A client of the Redis (or cluster) `settings` name, every master flushed."""
    client = create_redis(settings, process_name="tests")
    await client.flushdb()
    return client


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> None:
    engine = create_engine(settings.sync_database_url())
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(settings)


@pytest.fixture(scope="session")
async def engine(settings: Settings, migrated: None) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(settings, process_name="tests")
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


_TABLES = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))


@pytest.fixture(autouse=True)
async def clean_database(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
async def app(settings: Settings, redis: Redis) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
