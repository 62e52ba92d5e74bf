"""The worker killed (SIGKILL; its work horse dies with it) in the middle of a large import
(DESIGN 5): a new worker's scheduler finds the import abandoned and runs it again, and nothing
is lost or written twice: every good row once, every member placed in the queue once, bad rows
reported."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from rq.job import Job, JobStatus
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.api.customers.enqueue import enqueue_import
from services.queue import AssignmentQueue
from services.worker.abandoned import (
    MAX_RERUNS,
    SweepResult,
    import_lock,
    job_lock,
    sweep_abandoned,
)
from shared.importing import failure_of
from shared.infra.settings import Settings
from shared.models import Customer, Event, EventKind, ImportStatus, Membership
from tests.chaos.worker_process import WorkerProcess, new_import, read_import, wait_for_import

ROWS = 60_000
BAD_EVERY = 1000  # every this many rows, one with an invalid email
GOOD = ROWS - ROWS // BAD_EVERY


def _csv() -> bytes:
    lines = [b"external_id,first_name,email\n"]
    for i in range(ROWS):
        email = b"not-an-address" if i % BAD_EVERY == 0 else b"c%d@example.no" % i
        lines.append(b"c%d,Customer %d,%s\n" % (i, i, email))
    return b"".join(lines)


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


async def test_an_import_whose_worker_is_killed_is_run_again_and_loses_nothing(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    import_id, assignment_id = await new_import(
        sessionmaker, status=ImportStatus.queued, payload=_csv()
    )
    await asyncio.to_thread(enqueue_import, settings, import_id)

    first = WorkerProcess(settings, tmp_path / "worker-1.log")
    workers.append(first)
    partial = await wait_for_import(sessionmaker, import_id, first, done=False)
    first.kill()
    # Killed mid-run: part of the file written, the row left "running".
    killed = await read_import(sessionmaker, import_id)
    assert killed.status == ImportStatus.running
    assert 0 < partial.processed_rows <= killed.processed_rows < ROWS

    second = WorkerProcess(settings, tmp_path / "worker-2.log")
    workers.append(second)
    ended = await wait_for_import(sessionmaker, import_id, second, done=True)

    assert ended.status == ImportStatus.done, ended.errors
    assert (ended.processed_rows, ended.accepted_rows, ended.rejected_rows) == (
        ROWS,
        GOOD,
        ROWS - GOOD,
    )
    rejected = [e for e in ended.errors if "reason" in e]
    assert sorted(e["external_id"] for e in rejected) == sorted(
        f"c{i}" for i in range(0, ROWS, BAD_EVERY)
    )
    assert await redis.get(f"nc:jobs:reruns:import-{import_id}") == "1"
    async with sessionmaker() as session:
        await _assert_each_good_row_once(session, assignment_id)
    await _assert_each_member_placed_once(redis, sessionmaker, assignment_id)


async def _assert_each_good_row_once(session: AsyncSession, assignment_id: int) -> None:
    customers = await session.scalar(select(func.count(Customer.id)))
    external_ids = await session.scalar(select(func.count(func.distinct(Customer.external_id))))
    assert customers == external_ids == GOOD
    members = await session.scalar(
        select(func.count(func.distinct(Membership.customer_id))).where(
            Membership.assignment_id == assignment_id
        )
    )
    assert members == await session.scalar(select(func.count(Membership.id))) == GOOD
    per_customer = (
        select(Event.customer_id, func.count().label("n"))
        .where(Event.kind == EventKind.imported)
        .group_by(Event.customer_id)
        .subquery()
    )
    counts = (
        await session.execute(
            select(func.count(), func.min(per_customer.c.n), func.max(per_customer.c.n))
        )
    ).one()
    assert tuple(counts) == (GOOD, 1, 1)


async def _assert_each_member_placed_once(
    redis: Redis, sessionmaker: async_sessionmaker[AsyncSession], assignment_id: int
) -> None:
    queue = AssignmentQueue(redis, assignment_id)
    depth = await queue.depth()
    assert sum(depth.values()) == GOOD, depth
    async with sessionmaker() as session:
        ids = set(await session.scalars(select(Membership.customer_id)))
    placed = {int(c) for c in await redis.hkeys(queue.home_key)}
    assert placed == ids


async def _stale_import(
    sessionmaker: async_sessionmaker[AsyncSession], status: ImportStatus
) -> int:
    """An import row as a killed worker leaves it: older than the sweep's grace, no RQ job."""
    import_id, _ = await new_import(
        sessionmaker,
        status=status,
        payload=b"external_id\nc1\n",
        created_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    return import_id


async def _sweep(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> SweepResult | None:
    return await sweep_abandoned(
        engine=engine, sessionmaker=sessionmaker, redis=redis, settings=settings
    )


async def test_a_run_that_holds_its_lock_is_left_alone_and_a_lost_one_is_enqueued(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> None:
    import_id = await _stale_import(sessionmaker, ImportStatus.running)
    async with job_lock(engine, import_lock(import_id)) as alone:
        assert alone
        assert await _sweep(engine, sessionmaker, redis, settings) == SweepResult()
    # The run's connection is gone: the job is enqueued again, once.
    found = await _sweep(engine, sessionmaker, redis, settings)
    assert found == SweepResult(rerun=(f"import-{import_id}",))
    with SyncRedis.from_url(settings.redis_url) as connection:
        job = Job.fetch(f"import-{import_id}", connection=connection)
        assert (job.func_name, job.args, job.get_status()) == (
            "services.worker.jobs.imports.run_import",
            (import_id,),
            JobStatus.QUEUED,
        )
    # Queued in RQ: waiting for a worker, not abandoned.
    assert await _sweep(engine, sessionmaker, redis, settings) == SweepResult()


async def test_a_job_whose_worker_dies_every_time_ends_failed_with_the_reason(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> None:
    import_id = await _stale_import(sessionmaker, ImportStatus.queued)
    await redis.set(f"nc:jobs:reruns:import-{import_id}", MAX_RERUNS)

    found = await _sweep(engine, sessionmaker, redis, settings)

    assert found == SweepResult(failed=(f"import-{import_id}",))
    job = await read_import(sessionmaker, import_id)
    assert job.status == ImportStatus.failed
    assert job.finished_at is not None
    assert "stopped 4 times" in str(failure_of(job))
