"""queue.rebuild: make an assignment's Redis queue what PostgreSQL says it is (DESIGN 4).

Redis is an index; this job proves it can always be rebuilt. Leases survive a rebuild (an
agent keeps the customer on its screen), everything else is placed again from the database,
into fresh keys that replace the queue in one step at the end (services.queue.QueueBuild).
A queue Redis lost gets its leases back from the worker's copy first (services/worker/leases.py).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import (
    AssignmentQueue,
    Entry,
    FreeByBucket,
    QueueBuild,
    compute_placement,
    keys,
    now_ms,
    plain_places,
)
from services.worker.leases import restore_leases
from shared.flows import FlowSpec
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.jobqueue import QueueName
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.membership.placement import FactsBatch, load_queue_batches
from shared.models import Assignment, Flow

log = logging.getLogger(__name__)

# Two rebuilds of one assignment would interleave clear and place; the second one waits. The
# lock lives this long unless the running rebuild renews it (after every batch), so a killed
# job blocks the next one for at most this long.
LOCK_TIMEOUT_S = 60.0
# How long a rebuild waits for another one of the same assignment to finish.
LOCK_WAIT_S = 600.0
# Memberships read per database round trip.
BATCH_SIZE = 20_000
# Batches placed but not yet written to Redis: enough to keep every process busy.
PIPELINE_DEPTH = 2
# The job's time limit: the target is 1M memberships in 30 s (DESIGN 5); ten times that.
JOB_TIMEOUT_S = 300


@dataclass(frozen=True, slots=True)
class RebuildResult:
    assignment_id: int
    placed: int
    seconds: float


def places_of(batch: FactsBatch, *, now: int) -> tuple[list[Entry], FreeByBucket]:
    """Where each customer of the batch waits: the common case without objects."""
    free, entries = plain_places(batch.plain, stop_at_limit=batch.stop_at_limit, now_ms=now)
    entries.extend(compute_placement(f, now_ms=now).entry(f.customer_id) for f in batch.facts)
    return entries, free


async def _pipeline(
    batches: AsyncIterator[FactsBatch],
    build: QueueBuild,
    now: int,
    after_batch: Callable[[], Awaitable[object]],
    on_placed: Callable[[int], object] | None = None,
) -> None:
    """Read and place batches in one task while another writes them to Redis: PostgreSQL,
    this process and Redis each work on a different batch at the same time. `on_placed` hears
    how many customers each batch written held (a command's progress bar)."""
    Places = tuple[list[Entry], FreeByBucket, int]
    placed: asyncio.Queue[Places | Exception | None] = asyncio.Queue(PIPELINE_DEPTH)

    async def produce() -> None:
        try:
            async for batch in batches:
                entries, free = places_of(batch, now=now)
                await placed.put((entries, free, len(batch.plain) + len(batch.facts)))
        except Exception as error:  # handed over: the writer raises it
            await placed.put(error)
            return
        await placed.put(None)

    producer = asyncio.create_task(produce())
    try:
        while (places := await placed.get()) is not None:
            if isinstance(places, Exception):
                raise places
            entries, free, count = places
            await build.add_entries(entries, free)
            await after_batch()
            if on_placed is not None:
                on_placed(count)
    finally:
        if not producer.done():
            producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer


async def rebuild_queue(
    assignment_id: int,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    now: int | None = None,
    on_placed: Callable[[int], object] | None = None,
    leases_lost: bool | None = None,
) -> RebuildResult | None:
    """Place every membership again in a fresh queue and swap it in (leases stay); None if
    the assignment is unknown. `on_placed(n)` after each batch of n customers. With
    `leases_lost` (None: when the queue is gone from Redis), the leases copied to the
    database are given back first."""
    started = time.perf_counter()
    async with sessionmaker() as session:
        assignment = await session.get(Assignment, assignment_id)
        if assignment is None:
            return None
        flow = await session.get(Flow, assignment.flow_id)
        assert flow is not None  # foreign key
        spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
        queue = AssignmentQueue(redis, assignment_id)
        lock = redis.lock(
            keys.rebuild_lock(assignment_id), timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_WAIT_S
        )
        async with lock:
            at = now_ms() if now is None else now
            if leases_lost or (leases_lost is None and await queue.lost()):
                # Redis lost this queue, its leases with it: give back the copied ones first,
                # so that the rebuilt queue leaves those customers out (decision 030).
                await restore_leases(session, queue, now=at)
            # Built under fresh keys and swapped in at the end: agents keep working from the
            # old queue meanwhile and never see a half built one.
            build = QueueBuild(queue)
            await build.start()
            batches = load_queue_batches(session, assignment, spec, batch_size=BATCH_SIZE)
            await _pipeline(batches, build, at, lock.reacquire, on_placed)
            placed = await build.swap()
    result = RebuildResult(assignment_id, placed, time.perf_counter() - started)
    log.info(
        "queue.rebuilt assignment_id=%d placed=%d seconds=%.3f",
        assignment_id,
        placed,
        result.seconds,
    )
    return result


async def rebuild_with_settings(settings: Settings, assignment_id: int) -> RebuildResult | None:
    """Rebuild with an engine and a Redis client of its own, closed again at the end."""
    engine = create_engine(settings, process_name="worker-job")
    redis = create_redis(settings, process_name="worker-job")
    try:
        return await rebuild_queue(
            assignment_id, sessionmaker=create_sessionmaker(engine), redis=redis
        )
    finally:
        await redis.aclose()
        await engine.dispose()


def rebuild_assignment(assignment_id: int) -> None:
    """The RQ job: takes an id only and opens its own connections in the work-horse."""
    asyncio.run(rebuild_with_settings(Settings(), assignment_id))


def enqueue_rebuild(connection: SyncRedis, assignment_id: int) -> Job:
    """Queue a rebuild; safe to repeat (the job is idempotent and serialised by a lock)."""
    queue = Queue(QueueName.default, connection=connection)
    return queue.enqueue_call(
        rebuild_assignment,
        args=(assignment_id,),
        timeout=JOB_TIMEOUT_S,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"queue.rebuild assignment={assignment_id}",
    )
