"""The API end to end on the Redis Cluster: next, a long poll woken by a colleague's release
(sharded pub/sub), an outcome, a rate limit and a token revocation, all through the app."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.app import create_app
from services.api.auth.cache import Principal
from services.api.auth.revocations import publish_token_revoked
from services.api.resources import Resources
from services.queue import AssignmentQueue
from shared.infra.redis import is_cluster
from shared.infra.settings import Settings
from tests.api.live.conftest import eventually
from tests.api.world import World
from tests.api.world import world as plain_world

__all__ = ["plain_world"]


@pytest.fixture
async def redis(cluster_client: Redis) -> Redis:
    await cluster_client.flushdb()
    return cluster_client


@pytest.fixture
async def app(cluster_settings: Settings, redis: Redis) -> AsyncIterator[FastAPI]:
    settings = cluster_settings.model_copy(update={"rate_limit_search": "2/minute"})
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def resources(app: FastAPI) -> Resources:
    found: Resources = app.state.resources
    return found


@pytest.fixture
async def world(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, plain_world: World
) -> World:
    return plain_world


class TestTheApiOnACluster:
    async def test_agents_work_a_queue_on_the_cluster(
        self, world: World, resources: Resources, redis: Redis
    ) -> None:
        assert is_cluster(resources.redis)
        customers = await world.customers([{}, {}])
        first = (await world.next(agent=0)).json()
        second = (await world.next(agent=1)).json()
        waiting = asyncio.create_task(world.next(agent=2, wait_seconds=10))
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 1)
        started = time.perf_counter()
        released = await world.post(
            f"/v1/customers/{first['customer']['id']}/release",
            agent=0,
            lease_id=first["lease"]["id"],
        )
        woken = await asyncio.wait_for(waiting, timeout=10)
        latency = time.perf_counter() - started
        outcome = await world.post(
            f"/v1/customers/{second['customer']['id']}/outcomes",
            agent=1,
            lease_id=second["lease"]["id"],
            version=second["membership"]["version"],
            code="not_interested",
        )

        assert [first["customer"]["id"], second["customer"]["id"]] == [c.id for c in customers]
        assert released.status_code == 200
        assert woken.status_code == 200, woken.text
        assert woken.json()["customer"]["id"] == first["customer"]["id"]
        assert latency < 1.0  # woken by the sharded message, not by a re-check
        assert outcome.status_code == 200, outcome.text
        holders = await AssignmentQueue(redis, world.assignment.id).holders()
        assert holders == {first["customer"]["id"]: world.agents[2][0].id}

    async def test_a_search_past_its_rate_limit_is_refused(self, world: World) -> None:
        answers = [
            await world.client.get(
                "/v1/customers/search", params={"q": "ode"}, headers=world.auth(world.agents[0][1])
            )
            for _ in range(3)
        ]

        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[-1].json()["code"] == "rate_limited"

    async def test_a_revocation_reaches_the_cache_through_the_cluster(
        self, resources: Resources, redis: Redis
    ) -> None:
        principal = Principal(10, 1, "user 10", frozenset({"reporting"}), token_id=3)
        resources.principals.put("hash3", principal, now=datetime.now(UTC))

        await publish_token_revoked(redis, 3)

        await eventually(lambda: resources.principals.get("hash3") is None, within_s=1.0)
        assert resources.principals.get("hash3") is None
