"""The reconcile job (DESIGN 4: "Redis is an index ... and a reconcile job proves it").

Every RECONCILE_INTERVAL_S one worker replica compares each active assignment's queue in Redis
with what PostgreSQL says it is, repairs the difference and counts it
(`nextcall_queue_drift_total`). The comparison is a rebuild: the queue is placed again from the
database under fresh keys and swapped in (leases stay, services.queue.QueueBuild), and the
queue's entries before and after are compared. Zero drift is the proof; anything else is
repaired by the same step that measured it, and an alert fires on it (deploy/prometheus).

A write lands in PostgreSQL a moment before its settle reaches Redis, so a write in flight
while an assignment is compared can count as one entry of drift that was none; at the interval
below this is rare, and it is never repaired wrongly (the rebuild reads the committed state).
"""

import logging
import time

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue, keys
from services.worker.jobs.rebuild import rebuild_queue
from shared.infra import metrics
from shared.models import Assignment

log = logging.getLogger(__name__)

# How often the queues are compared with the database. A comparison reads every entry of a
# queue twice (before and after): about a second per 100,000 customers of an assignment.
RECONCILE_INTERVAL_S = 600
# What a rebuild keeps as it is: the leases and the agents' recent claims are not placed
# from the database (decision 015), so they are not compared.
_NOT_COMPARED = frozenset({"lease", "holder", "agent"})


def drift(before: dict[str, object], after: dict[str, object]) -> int:
    """How many entries differ between two snapshots (AssignmentQueue.snapshot): each
    member, field or (member, score) pair present in one and not the other counts once."""
    found = 0
    for name in (set(before) | set(after)) - _NOT_COMPARED:
        found += len(_entries(before.get(name)) ^ _entries(after.get(name)))
    return found


def _entries(value: object) -> set[object]:
    if isinstance(value, dict):
        return set(value.items())
    if isinstance(value, list):
        return {tuple(v) if isinstance(v, list | tuple) else v for v in value}
    return set()


async def reconcile_queue(
    assignment_id: int, *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> int:
    """Compare one assignment's queue with the database and repair it; returns the drift."""
    queue = AssignmentQueue(redis, assignment_id)
    # Expired leases and ended cooldowns are the sweep's, not drift: settle them first.
    await queue.sweep_backlog(rounds=10)
    before = await queue.snapshot()
    await rebuild_queue(assignment_id, sessionmaker=sessionmaker, redis=redis)
    found = drift(before, await queue.snapshot())
    metrics.QUEUE_RECONCILES.inc()
    if found:
        metrics.QUEUE_DRIFT.inc(found)
        log.warning("queue.drift_repaired assignment_id=%d entries=%d", assignment_id, found)
    return found


async def reconcile_all(
    *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, now_s: float | None = None
) -> int | None:
    """Reconcile every active assignment, if no replica did in this interval; the drift."""
    at = time.time() if now_s is None else now_s
    slot = int(at // RECONCILE_INTERVAL_S)
    if not await redis.set(
        keys.once(f"reconcile:{slot}"), "1", nx=True, px=RECONCILE_INTERVAL_S * 2000
    ):
        return None
    async with sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(Assignment.id).where(Assignment.active.is_(True)).order_by(Assignment.id)
            )
        )
    total = 0
    for assignment_id in ids:
        total += await reconcile_queue(assignment_id, sessionmaker=sessionmaker, redis=redis)
    return total
