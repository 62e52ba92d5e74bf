"""Leases survive a Redis loss: copied to the database behind the hot path, given back by the
rebuild (issue 12, point 5)."""

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import Claimed, Empty, keys, now_ms
from services.worker.epoch import server_run
from services.worker.jobs.rebuild import rebuild_queue
from services.worker.leases import copy_leases
from shared.models import HeldLease, Membership
from tests.factories import create_user
from tests.worker.conftest import Campaign


async def _trusted(redis: Redis) -> None:
    """As the worker's recovery leaves it: the queues were rebuilt in this Redis."""
    run_id, _ = await server_run(redis)
    await redis.set(keys.QUEUES_EPOCH, run_id)


class TestLeasesSurviveARedisLoss:
    async def test_the_holder_keeps_the_customer_through_flushall_and_rebuild(
        self,
        campaign: Campaign,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        first, second = await campaign.customers(2)
        colleague, _ = await create_user(session, campaign.tenant, name="Colleague")
        queue = campaign.queue
        held = await queue.claim(user_id=campaign.agent.id, lease_seconds=300)
        assert isinstance(held, Claimed) and held.customer_id == first.id
        await _trusted(campaign.redis)
        ids = [campaign.assignment.id]
        assert await copy_leases(ids, sessionmaker=sessionmaker, redis=campaign.redis) == 1

        await campaign.redis.flushall()
        # The worker copies nothing from a Redis that lost the queues: the copy stays.
        assert await copy_leases(ids, sessionmaker=sessionmaker, redis=campaign.redis) is None
        await rebuild_queue(campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis)
        served = await queue.claim(user_id=colleague.id, lease_seconds=300)
        after = await queue.claim(user_id=colleague.id + 1, lease_seconds=300)

        assert isinstance(served, Claimed) and served.customer_id == second.id
        assert isinstance(after, Empty) and after.held == 2
        holder = await queue.holder(first.id)
        assert holder is not None
        assert (holder.user_id, holder.lease_token) == (campaign.agent.id, held.lease_token)
        assert holder.lease_expires_ms == held.lease_expires_ms
        # The holder's write goes on as before: its lease is renewed with its token.
        renewed = await queue.renew(
            first.id, user_id=campaign.agent.id, lease_token=held.lease_token, lease_seconds=300
        )
        assert renewed > now_ms()

    async def test_a_lease_whose_customer_was_written_since_is_not_given_back(
        self,
        campaign: Campaign,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        (customer,) = await campaign.customers(1)
        held = await campaign.queue.claim(user_id=campaign.agent.id, lease_seconds=300)
        assert isinstance(held, Claimed)
        await _trusted(campaign.redis)
        await copy_leases([campaign.assignment.id], sessionmaker=sessionmaker, redis=campaign.redis)
        # The holder's attempt committed; Redis was lost before the settle and the next copy.
        await session.execute(
            update(Membership)
            .where(Membership.customer_id == customer.id)
            .values(version=Membership.version + 1)
        )
        await session.commit()

        await campaign.redis.flushall()
        await rebuild_queue(campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis)

        assert await campaign.queue.holder(customer.id) is None
        assert (await campaign.queue.depth())["free"] == 1

    async def test_copies_follow_redis_released_and_renewed(
        self,
        campaign: Campaign,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        first, _ = await campaign.customers(2)
        queue = campaign.queue
        held = await queue.claim(user_id=campaign.agent.id, lease_seconds=300, now=now_ms())
        assert isinstance(held, Claimed)
        await _trusted(campaign.redis)
        ids = [campaign.assignment.id]
        at = now_ms()
        await copy_leases(ids, sessionmaker=sessionmaker, redis=campaign.redis, now=at)
        renewed = await queue.renew(
            first.id, user_id=campaign.agent.id, lease_token=held.lease_token, lease_seconds=600
        )
        await copy_leases(ids, sessionmaker=sessionmaker, redis=campaign.redis, now=at + 1000)
        copied = (await session.scalars(select(HeldLease))).all()
        assert [(c.customer_id, int(c.expires_at.timestamp() * 1000)) for c in copied] == [
            (first.id, renewed)
        ]

        await queue.release(first.id, user_id=campaign.agent.id, lease_token=held.lease_token)
        await copy_leases(ids, sessionmaker=sessionmaker, redis=campaign.redis, now=at + 2000)
        session.expire_all()
        assert (await session.scalars(select(HeldLease))).all() == []
