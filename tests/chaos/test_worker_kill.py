"""The worker killed (SIGKILL, work-horse and all) in the middle of a large import (DESIGN 5):
a new worker's scheduler finds the import abandoned and runs it again, and nothing is lost or
written twice: every good row once, every member placed in the queue once, bad rows reported."""

import asyncio
import os
import signal
import subprocess
import sys
import time
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
from shared.models import Customer, Event, EventKind, ImportJob, ImportStatus, Membership
from shared.settings import Settings
from tests.factories import create_assignment, create_flow, create_tenant, create_user

ROWS = 60_000
BAD_EVERY = 1000  # every this many rows, one with an invalid email
GOOD = ROWS - ROWS // BAD_EVERY
DEADLINE_S = 60.0


def _csv() -> bytes:
    lines = [b"external_id,first_name,email\n"]
    for i in range(ROWS):
        email = b"not-an-address" if i % BAD_EVERY == 0 else b"c%d@example.no" % i
        lines.append(b"c%d,Customer %d,%s\n" % (i, i, email))
    return b"".join(lines)


class Worker:
    """A real `nextcall worker` on the test run's PostgreSQL and Redis, its output in a file."""

    def __init__(self, settings: Settings, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env["NEXTCALL_DATABASE_URL"] = settings.database_url
        env["NEXTCALL_REDIS_URL"] = settings.redis_url
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "nextcall"), "worker"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def horses(self) -> list[int]:
        """The work-horses RQ forked (each in a process group of its own)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def kill(self) -> None:
        """As a lost machine or an OOM-killed container would: no process gets to react."""
        horses = self.horses()
        self.process.send_signal(signal.SIGKILL)
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.horses():
            os.kill(pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


async def _import(sessionmaker: async_sessionmaker[AsyncSession], import_id: int) -> ImportJob:
    async with sessionmaker() as session:
        job = await session.get(ImportJob, import_id)
        assert job is not None
        return job


async def _wait(
    sessionmaker: async_sessionmaker[AsyncSession],
    import_id: int,
    worker: Worker,
    done: bool,
) -> ImportJob:
    """Until the import has committed a batch but not finished (done=False), or has ended."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        job = await _import(sessionmaker, import_id)
        if done and job.status in (ImportStatus.done, ImportStatus.failed):
            return job
        if not done:
            assert job.status != ImportStatus.done, "the import ended before it could be killed"
            if job.processed_rows > 0:
                return job
        assert worker.process.poll() is None, worker.output()
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"import {import_id} not {'ended' if done else 'started'}:\n{worker.output()}"
    )


async def test_an_import_whose_worker_is_killed_is_run_again_and_loses_nothing(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    workers: list[Worker],
    tmp_path: Path,
) -> None:
    import_id, assignment_id = await _new_import(
        sessionmaker, status=ImportStatus.queued, payload=_csv()
    )
    await asyncio.to_thread(enqueue_import, settings, import_id)

    first = Worker(settings, tmp_path / "worker-1.log")
    workers.append(first)
    partial = await _wait(sessionmaker, import_id, first, done=False)
    first.kill()
    # Killed mid-run: part of the file written, the row left "running".
    killed = await _import(sessionmaker, import_id)
    assert killed.status == ImportStatus.running
    assert 0 < partial.processed_rows <= killed.processed_rows < ROWS

    second = Worker(settings, tmp_path / "worker-2.log")
    workers.append(second)
    ended = await _wait(sessionmaker, import_id, second, done=True)

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


async def _new_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    status: ImportStatus,
    payload: bytes,
    created_at: datetime | None = None,
) -> tuple[int, int]:
    """An import row into a new tenant's assignment: its id and the assignment's."""
    async with sessionmaker() as session:
        tenant = await create_tenant(session)
        user, _ = await create_user(session, tenant)
        assignment = await create_assignment(session, tenant, await create_flow(session, tenant))
        job = ImportJob(
            tenant_id=tenant.id,
            assignment_id=assignment.id,
            user_id=user.id,
            format="csv",
            status=status,
            payload=payload,
            created_at=created_at or datetime.now(UTC),
        )
        session.add(job)
        await session.commit()
        return job.id, assignment.id


async def _stale_import(
    sessionmaker: async_sessionmaker[AsyncSession], status: ImportStatus
) -> int:
    """An import row as a killed worker leaves it: older than the sweep's grace, no RQ job."""
    import_id, _ = await _new_import(
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
    job = await _import(sessionmaker, import_id)
    assert job.status == ImportStatus.failed
    assert job.finished_at is not None
    assert "stopped 4 times" in str(failure_of(job))
