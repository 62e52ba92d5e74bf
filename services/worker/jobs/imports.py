"""imports.run: a customer import too large to answer inline (rule 3), run by the worker.

The API stores the file on the ImportJob and enqueues this job after its commit. The job
takes the import's id only, opens its own connections inside the forked work-horse, and can
run again: a finished import returns at once, an interrupted one is run from the start
(rows are upserted by external id, so nothing is imported twice).
"""

import asyncio
import logging

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from services.worker.abandoned import import_lock, job_lock
from shared import importing
from shared.contact.bars import NO_BARS, any_bars
from shared.importing.placing import new_member_facts
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.membership.placement import bars_among, load_queue_facts
from shared.models import ImportJob, ImportStatus

log = logging.getLogger(__name__)

# Rows per transaction: large, so each batch's statements and COPYs carry many rows; small
# enough that progress moves every second or so and a batch fits easily in memory.
BATCH_SIZE = 20_000


async def import_customers(
    import_id: int, *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> importing.ImportProgress | None:
    """Run the import and place each committed batch in the assignment's queue; None if the
    import does not exist."""
    async with sessionmaker() as session:
        job = await session.get(ImportJob, import_id)
        if job is None:
            log.warning("import.missing import_id=%d", import_id)
            return None
        if job.status == ImportStatus.done:
            return importing.progress_of(job)
        target, assignment, spec = await importing.import_target(session, job)
        any_blocked = await session.scalar(any_bars(job.tenant_id))
    queue = AssignmentQueue(redis, assignment.id)

    async def place(result: importing.BatchResult) -> None:
        # New customers are placed from what the import wrote; the others (existing
        # customers, with their attempts and follow-ups) are read back.
        fresh = {m.customer_id for m in result.new_members}
        others = [c for c in result.customer_ids if c not in fresh]
        async with sessionmaker() as session:
            bars = NO_BARS
            if any_blocked is not None and fresh:
                phones = {p for m in result.new_members for p in m.phones}
                bars = await bars_among(session, assignment.tenant_id, phones)
            await queue.place_sources(
                new_member_facts(
                    result.new_members,
                    assignment,
                    spec,
                    bars=bars,
                    default_country=target.region,
                )
            )
            if others:
                async for batch in load_queue_facts(session, assignment, spec, customer_ids=others):
                    await queue.place_sources(batch)
        await publish_eligible(redis, assignment.id)

    progress = await importing.run_import(
        sessionmaker, import_id, on_batch_result=place, batch_size=BATCH_SIZE
    )
    log.info(
        "import.finished import_id=%d rows=%d accepted=%d rejected=%d",
        import_id,
        progress.processed_rows,
        progress.accepted_rows,
        progress.rejected_rows,
    )
    return progress


async def import_with_settings(
    settings: Settings, import_id: int
) -> importing.ImportProgress | None:
    """Run with an engine and a Redis client of its own, closed again at the end."""
    engine = create_engine(settings, process_name="worker-job")
    redis = create_redis(settings, process_name="worker-job")
    try:
        # One run at a time; the lock also tells the scheduler this run is alive.
        async with job_lock(engine, import_lock(import_id)) as alone:
            if not alone:
                log.info("import.running_elsewhere import_id=%d", import_id)
                return None
            return await import_customers(
                import_id, sessionmaker=create_sessionmaker(engine), redis=redis
            )
    finally:
        await redis.aclose()
        await engine.dispose()


def run_import(import_id: int) -> None:
    """The RQ job: takes an id only and opens its own connections in the work-horse."""
    asyncio.run(import_with_settings(Settings(), import_id))
