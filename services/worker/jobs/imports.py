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
from shared import importing
from shared.broadcast import publish_eligible
from shared.db import create_engine, create_sessionmaker
from shared.models import ImportJob, ImportStatus
from shared.placement import load_queue_facts
from shared.redis import create_redis
from shared.settings import Settings

log = logging.getLogger(__name__)


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
        _, assignment, spec = await importing.import_target(session, job)
    queue = AssignmentQueue(redis, assignment.id)

    async def place(customer_ids: list[int]) -> None:
        async with sessionmaker() as session:
            async for batch in load_queue_facts(
                session, assignment, spec, customer_ids=customer_ids
            ):
                await queue.place_sources(batch)
        await publish_eligible(redis, assignment.id)

    progress = await importing.run_import(sessionmaker, import_id, on_batch_committed=place)
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
        return await import_customers(
            import_id, sessionmaker=create_sessionmaker(engine), redis=redis
        )
    finally:
        await redis.aclose()
        await engine.dispose()


def run_import(import_id: int) -> None:
    """The RQ job: takes an id only and opens its own connections in the work-horse."""
    asyncio.run(import_with_settings(Settings(), import_id))
