"""Run again the imports and bulk jobs a killed worker left behind
(docs/decisions/016-worker-kill-recovery.md).

A worker killed mid-job (SIGKILL, OOM, a lost machine) leaves its ImportJob or BulkJob row
`running` for good: RQ notices the dead work-horse only when the job's heartbeat expires and a
worker's maintenance runs (up to ten minutes later), and then only marks its own record failed.

Whether a job still runs is told by PostgreSQL, not by RQ: every run holds a transaction-level
advisory lock on its row (`job_lock`) for as long as it works, and PostgreSQL drops it the
moment the run's connection closes, however the process died. The scheduler asks
(`sweep_abandoned`, one replica at a time under SET NX PX) for rows still `queued` or `running`
whose lock is free and whose RQ job is not waiting to be run: each is enqueued again under its
own job id, at most MAX_RERUNS times, then marked failed with the reason. The jobs are
written to be re-run: imports upsert by external id and log `imported` only for new
memberships, a bulk outcome is one transaction, a move selects only the customers it has not
moved yet.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from services.queue import keys
from services.worker.metered import job_kind
from shared.infra import metrics
from shared.infra.jobqueue import (
    BULK_JOBS,
    IMPORT_JOB,
    QueueName,
    bulk_rq_id,
    enqueue,
    import_rq_id,
    rq_connection,
)
from shared.infra.settings import Settings
from shared.models import BulkJob, BulkStatus, ImportJob, ImportStatus

log = logging.getLogger(__name__)

# One replica sweeps; a killed one blocks the others for this long at most.
LOCK_KEY = keys.ABANDONED_JOBS_LOCK
LOCK_TTL_MS = 60_000
# How often the rows are looked at: a killed job is run again within about this much.
CHECK_INTERVAL_S = 2.0
# A row younger than this may not be enqueued yet (the API enqueues after its commit), and an
# RQ job started less than this ago may not hold its lock yet (the work-horse is connecting).
GRACE_S = 5.0
# A job whose worker died this often is not tried again: it is probably what kills it.
MAX_RERUNS = 3
RERUNS_TTL_S = 7 * 24 * 3600
# Same time limit as the API gives the jobs it enqueues.
JOB_TIMEOUT_S = 3600

# Advisory lock keys: the table's namespace in the high bits, the row's id in the low ones.
_IMPORTS, _BULK = 1 << 48, 2 << 48
# RQ states in which the job is still to be run by some worker.
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.CREATED}
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


def import_lock(import_id: int) -> int:
    return _IMPORTS + import_id


def bulk_lock(bulk_job_id: int) -> int:
    return _BULK + bulk_job_id


def _is_postgresql(engine: AsyncEngine | AsyncConnection) -> bool:
    return engine.dialect.name == "postgresql"


@asynccontextmanager
async def job_lock(engine: AsyncEngine, key: int) -> AsyncIterator[bool]:
    """Hold the row's run lock while the job works; yields False when another run holds it
    (the job then returns: that run is alive and finishes the work). SQLite has one worker
    and no advisory locks: there it always yields True."""
    if not _is_postgresql(engine):
        yield True
        return
    # A transaction-level lock, held by a transaction that stays open (and idle) while the job
    # works: however the block ends, even cancelled, ending the transaction or dropping the
    # connection releases it. A session-level lock whose unlock was skipped would go back to
    # the pool with its connection and make every later run of that job think it is running.
    async with engine.begin() as conn:
        query = text("SELECT pg_try_advisory_xact_lock(:k)")
        yield bool(await conn.scalar(query, {"k": key}))


@dataclass(frozen=True, slots=True)
class _Row:
    table: type[ImportJob] | type[BulkJob]
    id: int
    lock: int
    rq_id: str
    func: str


@dataclass(frozen=True, slots=True)
class SweepResult:
    rerun: tuple[str, ...] = ()  # RQ job ids enqueued again
    failed: tuple[str, ...] = ()  # given up on: their rows are marked failed


async def _candidates(session: AsyncSession, before: datetime) -> list[_Row]:
    """Rows a worker should be running or about to run. Inline imports (the API's, without a
    stored file) are not the worker's to run."""
    imports = await session.scalars(
        select(ImportJob.id).where(
            ImportJob.status.in_((ImportStatus.queued, ImportStatus.running)),
            ImportJob.payload.is_not(None),
            ImportJob.created_at < before,
        )
    )
    rows = [_Row(ImportJob, i, import_lock(i), import_rq_id(i), IMPORT_JOB) for i in imports]
    bulk = await session.execute(
        select(BulkJob.id, BulkJob.kind).where(
            BulkJob.status.in_((BulkStatus.queued, BulkStatus.running)),
            BulkJob.created_at < before,
        )
    )
    rows += [
        _Row(BulkJob, i, bulk_lock(i), bulk_rq_id(i), BULK_JOBS[kind])
        for i, kind in bulk
        if kind in BULK_JOBS
    ]
    return rows


def _fetch(connection: Any, rq_id: str) -> Job | None:
    try:
        return Job.fetch(rq_id, connection=connection)
    except NoSuchJobError:
        return None  # never enqueued (Redis was away) or lost with a Redis restart


def _abandoned_in_rq(job: Job | None, now: datetime) -> bool:
    """RQ will not run the job (again): missing, ended, or started long enough ago that its
    run must hold the lock by now (the caller saw the lock free)."""
    if job is None:
        return True
    status = job.get_status(refresh=False)
    if status in _WAITING:
        return False
    if status == JobStatus.STARTED and job.started_at is not None:
        return job.started_at.replace(tzinfo=UTC) < now - timedelta(seconds=GRACE_S)
    return True


def _requeue(settings: Settings, connection: Any, row: _Row, job: Job | None) -> None:
    """Forget the dead run in RQ's registries (its expired entry would otherwise mark the new
    run failed later), then enqueue the job again under its own id."""
    if job is not None:
        queue = Queue(QueueName.default, connection=connection)
        StartedJobRegistry(queue=queue).remove_executions(job)
        FailedJobRegistry(queue=queue).remove(job)
    enqueue(
        settings,
        row.func,
        args=(row.id,),
        job_id=row.rq_id,
        timeout_s=JOB_TIMEOUT_S,
        description=f"{row.func.rsplit('.', 1)[-1]} {row.rq_id} (run again)",
        process_name="scheduler",
    )


async def _give_up(conn: AsyncConnection, row: _Row, reason: str, now: datetime) -> None:
    table = row.table
    current = await conn.scalar(select(table.errors).where(table.id == row.id))
    entry = {"failure": reason} if table is ImportJob else {"reason": reason}
    await conn.execute(
        update(table)
        .where(table.id == row.id, table.status.in_(("queued", "running")))
        .values(status="failed", errors=[*(current or []), entry], finished_at=now)
    )


async def sweep_abandoned(
    *,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> SweepResult | None:
    """Run again (or fail) every abandoned job; None when another replica sweeps or the
    database has no advisory locks."""
    if not _is_postgresql(engine):
        return None
    token = secrets.token_hex(8)
    if not await redis.set(LOCK_KEY, token, nx=True, px=LOCK_TTL_MS):
        return None
    rerun: list[str] = []
    failed: list[str] = []
    try:
        now = datetime.now(UTC)
        async with sessionmaker() as session:
            rows = await _candidates(session, now - timedelta(seconds=GRACE_S))
        if not rows:
            return SweepResult()
        connection = rq_connection(settings, process_name="scheduler")
        try:
            for row in rows:
                outcome = await _sweep_row(engine, redis, settings, connection, row, now)
                if outcome == "rerun":
                    rerun.append(row.rq_id)
                elif outcome == "failed":
                    failed.append(row.rq_id)
        finally:
            connection.close()
    finally:
        await redis.eval(_RELEASE, 1, LOCK_KEY, token)
    return SweepResult(tuple(rerun), tuple(failed))


async def _sweep_row(
    engine: AsyncEngine,
    redis: Redis,
    settings: Settings,
    connection: Any,
    row: _Row,
    now: datetime,
) -> str | None:
    """ "rerun", "failed", or None when the row's job is alive or waiting."""
    async with engine.begin() as conn:
        # A transaction lock: held while deciding, gone at commit. A run that holds the
        # session lock is alive; while this one is held, no run can start its work.
        free = await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": row.lock})
        if not free:
            return None
        job = await asyncio.to_thread(_fetch, connection, row.rq_id)
        if not _abandoned_in_rq(job, now):
            return None
        key = keys.job_reruns(row.rq_id)
        reruns = int(await redis.incr(key))
        await redis.expire(key, RERUNS_TTL_S)
        if reruns > MAX_RERUNS:
            reason = f"the worker running this job stopped {MAX_RERUNS + 1} times; not run again"
            await _give_up(conn, row, reason, now)
            metrics.JOBS_FAILED.labels(job_kind(row.func)).inc()
            log.error("jobs.abandoned_failed job=%s reruns=%d", row.rq_id, reruns - 1)
            return "failed"
    # After the commit: the new run must find the lock free.
    await asyncio.to_thread(_requeue, settings, connection, row, job)
    metrics.JOBS_RETRIED.labels(job_kind(row.func)).inc()
    log.warning("jobs.abandoned_rerun job=%s rerun=%d", row.rq_id, reruns)
    return "rerun"


class AbandonedJobs:
    """`sweep_abandoned` at most every `interval_s`, for the scheduler's loop."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        settings: Settings,
        interval_s: float = CHECK_INTERVAL_S,
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.settings = settings
        self.interval_s = interval_s
        self._next = 0.0

    async def check(self) -> SweepResult | None:
        if time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self.interval_s
        return await sweep_abandoned(
            engine=self.engine,
            sessionmaker=self.sessionmaker,
            redis=self.redis,
            settings=self.settings,
        )
