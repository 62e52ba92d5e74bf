"""The worker rebuilds every queue once Redis lost them (services/worker/recovery.py)."""

import asyncio
import threading

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.worker.recovery import EPOCH_KEY, LOCK_KEY, recover_queues
from services.worker.scheduler import Scheduler
from tests.factories import add_customers, create_assignment, create_flow, create_tenant


async def _assignments(session: AsyncSession, redis: Redis, count: int) -> list[int]:
    tenant = await create_tenant(session)
    flow = await create_flow(session, tenant)
    ids = []
    for i in range(count):
        assignment = await create_assignment(session, tenant, flow, name=f"Campaign {i}")
        await add_customers(
            session, redis, assignment, [{"external_id": f"{i}-{n}"} for n in range(5)]
        )
        ids.append(assignment.id)
    return ids


async def _free(redis: Redis, assignment_id: int) -> int:
    return (await AssignmentQueue(redis, assignment_id).depth())["free"]


async def test_a_flushed_redis_gets_every_queue_back_once(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    ids = await _assignments(session, redis, 2)
    assert await recover_queues(sessionmaker=sessionmaker, redis=redis) == 2  # no marker yet
    assert await recover_queues(sessionmaker=sessionmaker, redis=redis) is None  # intact

    await redis.flushdb()
    assert [await _free(redis, i) for i in ids] == [0, 0]
    assert await recover_queues(sessionmaker=sessionmaker, redis=redis) == 2
    assert [await _free(redis, i) for i in ids] == [5, 5]
    assert await redis.exists(EPOCH_KEY) and not await redis.exists(LOCK_KEY)


async def test_a_marker_of_another_redis_run_or_a_rebuild_elsewhere(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    await _assignments(session, redis, 1)
    await redis.set(EPOCH_KEY, "run-id-of-a-redis-that-restarted")
    await redis.set(LOCK_KEY, "another-replica", px=5_000)
    assert await recover_queues(sessionmaker=sessionmaker, redis=redis) is None  # theirs
    await redis.delete(LOCK_KEY)
    assert await recover_queues(sessionmaker=sessionmaker, redis=redis) == 1
    assert await redis.get(EPOCH_KEY) != "run-id-of-a-redis-that-restarted"


async def test_the_scheduler_loop_recovers_a_flushed_redis(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    [a] = await _assignments(session, redis, 1)
    await redis.flushdb()
    stop = threading.Event()
    scheduler = Scheduler(sessionmaker=sessionmaker, redis=redis)
    running = asyncio.create_task(scheduler.run(interval_s=0.05, stop=stop))
    try:
        for _ in range(100):
            if await _free(redis, a) == 5:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)
    assert await _free(redis, a) == 5
