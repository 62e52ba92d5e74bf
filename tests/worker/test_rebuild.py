"""queue.rebuild: the queue rebuilt from the database equals the queue it replaces."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from rq import Queue, SimpleWorker
from rq.job import JobStatus
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue, Claimed, QueueBuild, keys
from services.worker.jobs.rebuild import enqueue_rebuild, rebuild_assignment, rebuild_queue
from shared.demo import SEED_FLOW
from shared.flows import FlowSpec
from shared.infra.jobqueue import QueueName
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.membership.placement import load_queue_facts
from shared.models import AttemptLimitAction, BlockedPhone, Segment
from tests.worker.conftest import NOW_MS, Campaign, ago, ahead


async def _every_state(campaign: Campaign, session: AsyncSession) -> list[int]:
    """Customers free, cooling, with follow-ups, final, parked, at the limit, blocked, in a
    segment; returns their ids in that order."""
    c = await campaign.customers(11, phone_1=None)
    segment = Segment(
        tenant_id=campaign.tenant.id, assignment_id=campaign.assignment.id, name="Oslo"
    )
    session.add(segment)
    session.add(BlockedPhone(tenant_id=campaign.tenant.id, phone="+4791000007"))
    await session.commit()
    changes: list[dict[str, Any]] = [
        {},  # 0: free, never tried
        {"attempts": 1, "last_attempt_at": ago(seconds=60)},  # 1: cooling (600 s)
        {"attempts": 1, "last_attempt_at": ago(hours=2)},  # 2: free again after an attempt
        {"attempts": 1, "followup_kind": "shared", "followup_at": ahead(hours=1)},  # 3
        {
            "state": "interested",
            "followup_kind": "personal",
            "followup_at": ahead(days=1),
            "followup_owner_id": campaign.agent.id,
        },  # 4: personal follow-up
        {"state": "sale"},  # 5: final
        {"attempts": 3, "last_attempt_at": ago(hours=3)},  # 6: at the attempt limit (stop)
        {},  # 7: blocked (below)
        {"segment_id": segment.id},  # 8: in a segment
        {"state": "interested"},  # 9: progressive without follow-up: parked
        {"attempts": 2, "last_attempt_at": ago(days=1)},  # 10: free, to be leased
    ]
    for customer, values in zip(c, changes, strict=True):
        if values:
            await campaign.set_membership(customer, **values)
    c[7].phone_1 = "+4791000007"
    await session.commit()
    await campaign.place(now=NOW_MS)
    return [x.id for x in c]


class TestRebuildQueue:
    async def test_equals_the_queue_before(
        self,
        campaign: Campaign,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        ids = await _every_state(campaign, session)
        queue = campaign.queue
        held = await queue.select(ids[10], user_id=campaign.agent.id, lease_seconds=300, now=NOW_MS)
        before = await queue.snapshot()
        assert set(before) >= {"home", "lease", "holder", "agent", "sfu:0", "limit:0"}
        depth = await queue.depth()
        assert depth == {
            "free": 3,  # 0, 2 and the segment's 8
            "cool": 1,
            "sfu": 1,
            "pfu": 1,
            "limit": 1,
            "blocked": 1,
            "held": 1,
        }

        result = await rebuild_queue(
            campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis, now=NOW_MS
        )

        assert result is not None
        assert result.placed == 11
        assert await queue.snapshot() == before
        holder = await queue.holder(ids[10])
        assert holder is not None
        assert holder.lease_token == held.lease_token
        assert not await campaign.redis.exists(keys.rebuild_lock(campaign.assignment.id))

    @pytest.mark.parametrize("limit_action", ["stop", "last"])
    async def test_without_sort_keys_equals_the_queue_before(
        self,
        campaign: Campaign,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        limit_action: str,
    ) -> None:
        # The rebuild's fast path: free customers placed from plain values, no objects.
        campaign.assignment.sort_keys = []
        campaign.assignment.attempt_limit_action = AttemptLimitAction(limit_action)
        await session.commit()
        ids = await _every_state(campaign, session)
        agent = campaign.agent.id
        await campaign.queue.select(ids[10], user_id=agent, lease_seconds=300, now=NOW_MS)
        before = await campaign.queue.snapshot()
        assert (await campaign.queue.depth())["limit"] == (1 if limit_action == "stop" else 0)

        result = await rebuild_queue(
            campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis, now=NOW_MS
        )

        assert result is not None and result.placed == 11
        assert await campaign.queue.snapshot() == before

    async def test_restores_a_lost_queue(
        self,
        campaign: Campaign,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        ids = await _every_state(campaign, session)
        before = await campaign.queue.snapshot()
        await campaign.redis.flushdb()

        await rebuild_queue(
            campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis, now=NOW_MS
        )

        assert await campaign.queue.snapshot() == before
        claimed = await campaign.queue.claim(
            user_id=campaign.agent.id, lease_seconds=60, now=NOW_MS
        )
        assert isinstance(claimed, Claimed)
        assert claimed.customer_id == ids[0]  # fewest attempts first

    async def test_drops_what_the_database_does_not_know(
        self, campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        customers = await campaign.customers(2)
        stranger = max(c.id for c in customers) + 100
        free, _ = [await campaign.queue.placement_of(c.id) for c in customers]
        assert free is not None
        await campaign.queue.place([(stranger, free)])

        await rebuild_queue(campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis)

        assert await campaign.queue.placement_of(stranger) is None
        assert (await campaign.queue.depth())["free"] == 2

    async def test_unknown_assignment(
        self, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
    ) -> None:
        assert await rebuild_queue(404, sessionmaker=sessionmaker, redis=redis) is None

    async def test_a_claim_while_the_build_runs_stays_with_its_agent(
        self, campaign: Campaign, session: AsyncSession
    ) -> None:
        customers = await campaign.customers(3)
        queue = campaign.queue
        build = QueueBuild(queue)
        await build.start()
        spec = FlowSpec.model_validate(SEED_FLOW)
        async for batch in load_queue_facts(session, campaign.assignment, spec):
            assert await build.add(batch, now=NOW_MS) == 3
        # The live queue still serves while the build is written.
        claimed = await queue.claim(user_id=campaign.agent.id, lease_seconds=60, now=NOW_MS)
        assert isinstance(claimed, Claimed)

        assert await build.swap() == 3

        assert (await queue.depth())["free"] == 2
        holder = await queue.holder(claimed.customer_id)
        assert holder is not None and holder.lease_token == claimed.lease_token
        again = await queue.claim(user_id=campaign.agent.id + 1, lease_seconds=60, now=NOW_MS)
        assert isinstance(again, Claimed)
        assert again.customer_id != claimed.customer_id
        assert {c.id for c in customers} >= {claimed.customer_id, again.customer_id}

    async def test_drops_what_an_interrupted_build_left(
        self, campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await campaign.customers(2)
        before = await campaign.queue.snapshot()
        await campaign.redis.zadd(campaign.queue._key("build:free:0|UTC"), {"stale": 0})
        await campaign.redis.hset(campaign.queue._key("build:home"), "999", "free|0|UTC|x||")

        await rebuild_queue(
            campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis, now=NOW_MS
        )

        assert await campaign.queue.snapshot() == before


@pytest.fixture
def job_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A job builds its resources from Settings(): point the environment at the test servers."""
    monkeypatch.setenv("NEXTCALL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NEXTCALL_REDIS_URL", settings.redis_url)
    yield settings


def _depth(settings: Settings, assignment_id: int) -> dict[str, int]:
    """Read in an event loop of its own: a sync test runs outside the tests' loop."""

    async def read() -> dict[str, int]:
        client = create_redis(settings, process_name="tests")
        try:
            return await AssignmentQueue(client, assignment_id).depth()
        finally:
            await client.aclose()

    return asyncio.run(read())


class TestRebuildJob:
    """Sync tests: the job runs asyncio.run() itself, as it does in a work-horse."""

    def test_called_directly(self, campaign_of_three: Campaign, job_env: Settings) -> None:
        assignment_id = campaign_of_three.assignment.id
        SyncRedis.from_url(job_env.redis_url).flushdb()

        rebuild_assignment(assignment_id)

        assert _depth(job_env, assignment_id)["free"] == 3

    def test_in_a_simple_worker(self, campaign_of_three: Campaign, job_env: Settings) -> None:
        assignment_id = campaign_of_three.assignment.id
        connection = SyncRedis.from_url(job_env.redis_url)
        connection.flushdb()
        job = enqueue_rebuild(connection, assignment_id)
        queue = Queue(QueueName.default, connection=connection)

        worked = SimpleWorker([queue], connection=connection).work(burst=True)

        assert worked
        assert job.get_status(refresh=True) == JobStatus.FINISHED
        assert _depth(job_env, assignment_id)["free"] == 3
        connection.close()


@pytest.fixture
async def campaign_of_three(campaign: Campaign) -> Campaign:
    await campaign.customers(3)
    return campaign
