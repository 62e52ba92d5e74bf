"""outcomes.run: apply one outcome to a large selection, all or nothing (rule 28).

Takes the bulk job's id. The work runs in one transaction (every membership at the version it
was read, one outcome event each) that also marks the job done, so a crash leaves either
everything or nothing and a rerun of a done job returns at once. Progress is committed on a
separate session while the work transaction stays open. The job checks the selection again
when it runs: a state that no longer allows the outcome, a different count, a customer held
by an agent or written by one meanwhile fails the whole job, with its reason, and writes
nothing.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from services.worker.abandoned import bulk_lock, job_lock
from shared.errors import DomainError, NotFound
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.membership.moving import flow_of
from shared.models import Assignment, BulkJob, BulkStatus
from shared.selections import bulk_outcome
from shared.selections.bulk_outcome import BATCH_SIZE, BulkOutcome
from shared.selections.selection import Selection


def run_bulk_outcome(job_id: int) -> None:
    """The RQ entry point: resources are made here, inside the forked work-horse."""
    asyncio.run(_run(job_id, Settings()))


async def _run(job_id: int, settings: Settings) -> None:
    engine = create_engine(settings, process_name="worker-outcomes")
    redis = create_redis(settings, process_name="worker-outcomes")
    try:
        # One run at a time (a second would fail the job the first did); the lock also
        # tells the scheduler this run is alive.
        async with job_lock(engine, bulk_lock(job_id)) as alone:
            if alone:
                await run_bulk_outcome_job(
                    job_id, sessionmaker=create_sessionmaker(engine), redis=redis
                )
    finally:
        await redis.aclose()
        await engine.dispose()


def bulk_of(job: BulkJob) -> BulkOutcome:
    params: dict[str, Any] = job.params
    at = params.get("follow_up_at")
    return BulkOutcome(
        tenant_id=job.tenant_id,
        user_id=job.user_id,
        selection=Selection.model_validate(params["selection"]),
        code=str(params["code"]),
        comment=str(params.get("comment") or ""),
        follow_up_at=datetime.fromisoformat(at) if at else None,
        event_data={"bulk_job_id": job.id},
    )


async def run_bulk_outcome_job(
    job_id: int,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    batch_size: int = BATCH_SIZE,
) -> None:
    async with sessionmaker() as progress:
        job = await progress.get(BulkJob, job_id)
        if job is None or job.status in (BulkStatus.done, BulkStatus.failed):
            return
        job.status = BulkStatus.running
        job.processed = 0
        await progress.commit()

        # SQLite has one writer at a time, and the work transaction is it: a progress commit
        # beside it would wait for the lock until it failed. There, progress shows at the end.
        reports_progress = progress.get_bind().dialect.name != "sqlite"

        async def report(processed: int) -> None:
            if reports_progress:
                job.processed = processed
                await progress.commit()

        try:
            await _apply(
                job, sessionmaker=sessionmaker, redis=redis, batch_size=batch_size, report=report
            )
        except DomainError as exc:
            await _fail(progress, job, {"reason": exc.message, **exc.extra})
        except Exception:
            # Nothing was committed; say so on the job, and let RQ record the error too.
            await _fail(progress, job, {"reason": "the job stopped on an unexpected error"})
            raise


async def _fail(progress: AsyncSession, job: BulkJob, error: dict[str, Any]) -> None:
    # A progress commit may have been what failed: start from a clean session.
    await progress.rollback()
    job.status = BulkStatus.failed
    job.succeeded = 0
    job.failed = job.total
    job.errors = [error]
    job.finished_at = datetime.now(UTC)
    await progress.commit()


async def _apply(
    job: BulkJob,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    batch_size: int,
    report: Callable[[int], Awaitable[None]],
) -> None:
    bulk = bulk_of(job)
    assignment_id = bulk.selection.assignment_id
    queue = AssignmentQueue(redis, assignment_id)
    async with sessionmaker() as session:
        assignment = await session.get(Assignment, assignment_id)
        if assignment is None or assignment.tenant_id != job.tenant_id:
            raise NotFound(f"assignment {assignment_id} not found")
        flow = await flow_of(session, assignment)
        await bulk_outcome.check(session, queue, flow, bulk, expected_count=job.total)
        now = datetime.now(UTC)
        written = await bulk_outcome.write_all(
            session,
            flow,
            bulk,
            expected=job.total,
            now=now,
            batch_size=batch_size,
            progress=report,
        )
        # Done in the same transaction as the work: both or neither.
        await session.execute(
            update(BulkJob)
            .where(BulkJob.id == job.id)
            .values(
                status=BulkStatus.done,
                processed=len(written),
                succeeded=len(written),
                finished_at=now,
            )
        )
        await session.commit()
        await bulk_outcome.replace(session, queue, assignment, flow, written, batch_size=batch_size)
    await publish_eligible(redis, assignment_id)
