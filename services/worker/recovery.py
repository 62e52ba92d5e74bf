"""Rebuild every queue when Redis comes back empty (docs/decisions/015-redis-restart-recovery.md).

Redis is an index of PostgreSQL (DESIGN 4). A Redis that restarted without persistence, or was
flushed, has lost every queue, and /next would answer "empty" until someone rebuilt them. The
worker's scheduler notices instead: Redis's `run_id` changes at every start, and the queues
carry a marker naming the run they were last rebuilt for. A missing or different marker means
the queues cannot be trusted, and one replica (SET NX PX) rebuilds every active assignment
through the rebuild job's function, then writes the marker.
"""

import logging
import secrets
import time

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import keys
from services.worker.epoch import server_run
from services.worker.jobs.rebuild import rebuild_queue
from shared.infra import metrics
from shared.models import Assignment

log = logging.getLogger(__name__)

# The run_id of the Redis server the queues were last rebuilt in; gone with a flush or restart.
EPOCH_KEY = keys.QUEUES_EPOCH
# One replica rebuilds; renewed after every assignment, so a killed replica blocks at most this.
LOCK_KEY = keys.RECOVERY_LOCK
LOCK_TTL_MS = 60_000
# How often the marker is compared: a lost Redis is noticed within this.
CHECK_INTERVAL_S = 1.0
# A holder's write checks its lease in Redis, then commits in PostgreSQL. One that checked in the
# lost Redis may still commit after the restart; rebuilding before it did would hand its
# customer out again. So a new Redis is rebuilt only once it has been up this long: longer than
# a write takes from its lease check to its commit.
WRITE_GRACE_S = 2

# Deletes the lock only while it is still ours (it may have expired and been taken since).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


async def recover_queues(
    *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> int | None:
    """Rebuild every active assignment's queue if Redis lost them; returns how many were
    rebuilt, or None when the queues are intact, another replica is rebuilding them or Redis
    is too new to be rebuilt yet (WRITE_GRACE_S)."""
    run_id, uptime_s = await server_run(redis)
    if await redis.get(EPOCH_KEY) == run_id or uptime_s < WRITE_GRACE_S:
        return None
    token = secrets.token_hex(8)
    if not await redis.set(LOCK_KEY, token, nx=True, px=LOCK_TTL_MS):
        return None
    started = time.perf_counter()
    try:
        async with sessionmaker() as session:
            ids = list(
                await session.scalars(
                    select(Assignment.id).where(Assignment.active.is_(True)).order_by(Assignment.id)
                )
            )
        for assignment_id in ids:
            await rebuild_queue(
                assignment_id, sessionmaker=sessionmaker, redis=redis, leases_lost=True
            )
            await redis.pexpire(LOCK_KEY, LOCK_TTL_MS)
        # The run_id read before rebuilding: had Redis restarted meanwhile, the marker differs
        # from the new run's id and the next check rebuilds again.
        await redis.set(EPOCH_KEY, run_id)
    finally:
        await redis.eval(_RELEASE, 1, LOCK_KEY, token)
    if ids:
        metrics.QUEUE_RECOVERIES.inc()
    # A new Redis with nothing to rebuild (a first start) lost nothing: no warning then.
    log.log(
        logging.WARNING if ids else logging.INFO,
        "queues.recovered run_id=%s assignments=%d seconds=%.3f",
        run_id,
        len(ids),
        time.perf_counter() - started,
    )
    return len(ids)


class QueueRecovery:
    """`recover_queues` at most every `interval_s`, for the scheduler's loop."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        interval_s: float = CHECK_INTERVAL_S,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.interval_s = interval_s
        self._next = 0.0

    async def check(self) -> int | None:
        if time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self.interval_s
        return await recover_queues(sessionmaker=self.sessionmaker, redis=self.redis)
