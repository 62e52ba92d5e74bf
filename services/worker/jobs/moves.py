"""moves.run: move a selection of customers to another assignment or segment (rule 9).

Takes the bulk job's id, works in batches (one commit each, then the queues), records
progress, and is idempotent: moved customers no longer match the selection, so a rerun after
a crash moves only the rest.
"""

import asyncio
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue, transfer
from services.queue.broadcast import publish_eligible
from services.queue.streams import announce_moved_in
from services.worker.abandoned import bulk_lock, job_lock
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.membership.moving import flow_of, move_memberships
from shared.membership.placement import load_queue_facts
from shared.models import Assignment, BulkJob, BulkStatus, Customer, Membership
from shared.selections.selection import Selection

BATCH_SIZE = 1000


def run_move(job_id: int) -> None:
    """The RQ entry point: resources are made here, inside the forked work-horse."""
    asyncio.run(_run(job_id, Settings()))


async def _run(job_id: int, settings: Settings) -> None:
    engine = create_engine(settings, process_name="worker-moves")
    redis = create_redis(settings, process_name="worker-moves")
    try:
        # One run at a time; the lock also tells the scheduler this run is alive.
        async with job_lock(engine, bulk_lock(job_id)) as alone:
            if alone:
                await run_move_job(job_id, sessionmaker=create_sessionmaker(engine), redis=redis)
    finally:
        await redis.aclose()
        await engine.dispose()


async def run_move_job(
    job_id: int, *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    async with sessionmaker() as session:
        job = await session.get(BulkJob, job_id)
        if job is None or job.status == BulkStatus.done:
            return
        job.status = BulkStatus.running
        await session.commit()
        selection = Selection.model_validate(job.params["selection"])
        target_id = int(job.params["target_assignment_id"])
        segment_raw = job.params.get("target_segment_id")
        target_segment = int(segment_raw) if segment_raw is not None else None
        target = await session.get(Assignment, target_id)
        if target is None or target.tenant_id != job.tenant_id:
            job.status = BulkStatus.failed
            job.errors = [{"reason": f"assignment {target_id} not found"}]
            await session.commit()
            return
        flow = await flow_of(session, target)
        queue = AssignmentQueue(redis, target_id)
        last_id = 0
        while True:
            memberships = list(
                await session.scalars(
                    select(Membership)
                    .join(Customer, Customer.id == Membership.customer_id)
                    .where(selection.where(job.tenant_id), Membership.id > last_id)
                    .order_by(Membership.id)
                    .limit(BATCH_SIZE)
                )
            )
            if not memberships:
                break
            last_id = memberships[-1].id
            moved = await move_memberships(
                session,
                memberships,
                target=target,
                target_segment_id=target_segment,
                user_id=job.user_id,
            )
            job.processed += len(memberships)
            job.succeeded += len(moved)
            await session.commit()
            ids = [m.customer_id for m in moved]
            facts = [
                f
                async for batch in load_queue_facts(session, target, flow, customer_ids=ids)
                for f in batch
            ]
            await transfer(
                [(m.customer_id, m.from_assignment_id) for m in moved],
                target=queue,
                sources=facts,
            )
            await publish_eligible(redis, target_id)
            await announce_moved_in(redis, target_id, ids)
        job.status = BulkStatus.done
        job.finished_at = datetime.now(UTC)
        await session.commit()
