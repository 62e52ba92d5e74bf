"""The queue engine's tests run twice: on one Redis and on the Redis Cluster."""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from shared.infra.settings import Settings
from tests.conftest import emptied


@pytest.fixture(params=["redis", "cluster"])
async def redis(
    request: pytest.FixtureRequest, settings: Settings, cluster_client: Redis
) -> AsyncIterator[Redis]:
    if request.param == "cluster":
        await cluster_client.flushdb()
        yield cluster_client
        return
    client = await emptied(settings)
    yield client
    await client.aclose()
