"""The worker's tick: expired leases go home, cooldowns end, waiting agents are woken."""

import asyncio
import json
import threading
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import Claimed
from services.queue.broadcast import assignment_channel
from services.worker.scheduler import Scheduler
from shared.models import Assignment, HeldLease
from tests.worker.conftest import NOW_MS, Campaign, ago, ahead

LEASE_S = 300


@pytest.fixture
def scheduler(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis) -> Scheduler:
    return Scheduler(sessionmaker=sessionmaker, redis=redis, refresh_s=0.0)


@pytest.fixture
async def events(campaign: Campaign, redis: Redis) -> AsyncIterator[PubSub]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(assignment_channel(campaign.assignment.id))
    await pubsub.get_message(timeout=1.0)  # the subscribe confirmation
    yield pubsub
    await pubsub.aclose()


async def _messages(pubsub: PubSub) -> list[dict[str, object]]:
    """Everything published so far (a publish is delivered before the next command returns)."""
    found = []
    while (message := await pubsub.get_message(timeout=0.2)) is not None:
        if message["type"] == "message":
            found.append(json.loads(message["data"]))
    return found


def _expired_total() -> float:
    return REGISTRY.get_sample_value("nextcall_leases_expired_total") or 0.0


class TestTick:
    async def test_returns_an_expired_lease(
        self, campaign: Campaign, scheduler: Scheduler, events: PubSub
    ) -> None:
        first, _second = await campaign.customers(2)
        await campaign.place(now=NOW_MS)
        claimed = await campaign.queue.claim(
            user_id=campaign.agent.id, lease_seconds=LEASE_S, now=NOW_MS
        )
        assert isinstance(claimed, Claimed)
        assert claimed.customer_id == first.id
        counted = _expired_total()

        early = await scheduler.tick(now=NOW_MS + (LEASE_S - 1) * 1000)
        late = await scheduler.tick(now=NOW_MS + (LEASE_S + 1) * 1000)

        assert early.leases_returned == 0
        assert late.leases_returned == 1
        assert late.woken == (campaign.assignment.id,)
        assert await campaign.queue.holder(first.id) is None
        assert (await campaign.queue.depth())["free"] == 2
        assert _expired_total() == counted + 1
        assert await _messages(events) == [
            {"type": "eligible", "assignment_id": campaign.assignment.id}
        ]

    async def test_ends_a_cooldown(
        self, campaign: Campaign, scheduler: Scheduler, events: PubSub
    ) -> None:
        (customer,) = await campaign.customers(1)
        await campaign.set_membership(customer, attempts=1, last_attempt_at=ago(seconds=60))
        assert (await campaign.queue.depth())["cool"] == 1

        still = await scheduler.tick(now=NOW_MS)
        ended = await scheduler.tick(now=NOW_MS + 541_000)  # cooldown is 600 s

        assert still.cooldowns_ended == 0
        assert ended.cooldowns_ended == 1
        assert (await campaign.queue.depth())["free"] == 1
        assert len(await _messages(events)) == 1

    async def test_wakes_when_a_shared_followup_becomes_due(
        self, campaign: Campaign, scheduler: Scheduler, events: PubSub
    ) -> None:
        (customer,) = await campaign.customers(1)
        due = ahead(seconds=2)
        await campaign.set_membership(customer, followup_kind="shared", followup_at=due)

        before = await scheduler.tick(now=NOW_MS)
        at_due = await scheduler.tick(now=NOW_MS + 2000)
        after = await scheduler.tick(now=NOW_MS + 2250)

        assert (before.woken, at_due.woken, after.woken) == ((), (campaign.assignment.id,), ())
        assert len(await _messages(events)) == 1

    async def test_quiet_when_nothing_changed(
        self, campaign: Campaign, scheduler: Scheduler, events: PubSub
    ) -> None:
        await campaign.customers(3)

        result = await scheduler.tick(now=NOW_MS)

        assert result.assignments == 1
        assert result.woken == ()
        assert await _messages(events) == []

    async def test_skips_inactive_assignments(
        self, campaign: Campaign, scheduler: Scheduler, session: AsyncSession
    ) -> None:
        await campaign.customers(1)
        await campaign.queue.claim(user_id=campaign.agent.id, lease_seconds=1, now=NOW_MS)
        await session.execute(update(Assignment).values(active=False))
        await session.commit()

        result = await scheduler.tick(now=NOW_MS + 5000)

        assert result.assignments == 0
        assert (await campaign.queue.depth())["held"] == 1


class TestRun:
    async def test_ticks_until_stopped(
        self, campaign: Campaign, scheduler: Scheduler, events: PubSub
    ) -> None:
        await campaign.customers(1)
        claimed = await campaign.queue.claim(user_id=campaign.agent.id, lease_seconds=1)
        assert isinstance(claimed, Claimed)
        stop = threading.Event()
        running = asyncio.create_task(scheduler.run(interval_s=0.05, stop=stop))

        for _ in range(100):  # the lease ends after 1 s of real time
            if await campaign.queue.holder(claimed.customer_id) is None:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, timeout=5)

        assert await campaign.queue.holder(claimed.customer_id) is None
        assert len(await _messages(events)) == 1

    async def test_copies_the_leases_to_the_database(
        self,
        campaign: Campaign,
        scheduler: Scheduler,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await campaign.customers(1)
        claimed = await campaign.queue.claim(user_id=campaign.agent.id, lease_seconds=LEASE_S)
        assert isinstance(claimed, Claimed)
        stop = threading.Event()
        running = asyncio.create_task(scheduler.run(interval_s=0.05, stop=stop))

        copied: list[HeldLease] = []
        for _ in range(100):  # the worker first rebuilds the queues it finds unmarked
            async with sessionmaker() as session:
                copied = list(await session.scalars(select(HeldLease)))
            if copied:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, timeout=5)

        assert [(c.customer_id, c.user_id, c.token) for c in copied] == [
            (claimed.customer_id, campaign.agent.id, claimed.lease_token)
        ]
