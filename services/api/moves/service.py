"""Moves of one customer (inline) or of a selection (a worker job with progress)."""

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.errors import NotFound
from services.api.moves.schemas import BulkJobOut, MovedOut, MoveOne, MoveSelection
from services.api.pagination import IdKey, Keyset, PageRequest
from services.api.resources import Resources
from services.api.work.cards import membership_out
from services.queue import AssignmentQueue, transfer
from services.queue.broadcast import publish_eligible
from services.queue.streams import announce_moved_in
from shared.infra.jobqueue import enqueue_bulk
from shared.membership.moving import flow_of, move_memberships
from shared.membership.placement import load_queue_facts
from shared.models import (
    Assignment,
    BulkJob,
    BulkKind,
    BulkStatus,
    Customer,
    Membership,
    Segment,
)


async def target_of(
    session: AsyncSession, tenant_id: int, assignment_id: int, segment_id: int | None
) -> Assignment:
    """The tenant's target assignment, and the segment checked to belong to it."""
    target = await session.get(Assignment, assignment_id)
    if target is None or target.tenant_id != tenant_id:
        raise NotFound(f"assignment {assignment_id} not found")
    if segment_id is not None:
        segment = await session.get(Segment, segment_id)
        if segment is None or segment.assignment_id != assignment_id:
            raise NotFound(f"segment {segment_id} not found in assignment {assignment_id}")
    return target


async def move_one(
    res: Resources, principal: Principal, customer_id: int, body: MoveOne
) -> MovedOut:
    async with res.session() as session:
        membership = await session.scalar(
            select(Membership).where(
                Membership.customer_id == customer_id,
                Membership.tenant_id == principal.tenant_id,
            )
        )
        if membership is None:
            raise NotFound(f"customer {customer_id} not found or not in an assignment")
        from_assignment = membership.assignment_id
        target = await target_of(session, principal.tenant_id, body.assignment_id, body.segment_id)
        moved = await move_memberships(
            session,
            [membership],
            target=target,
            target_segment_id=body.segment_id,
            user_id=principal.user_id,
        )
        flow = await flow_of(session, target)
        result = MovedOut(
            membership=membership_out(membership, flow), from_assignment_id=from_assignment
        )
        facts = [
            f
            async for batch in load_queue_facts(session, target, flow, customer_ids=[customer_id])
            for f in batch
        ]
    if moved:
        await transfer(
            [(m.customer_id, m.from_assignment_id) for m in moved],
            target=AssignmentQueue(res.redis, target.id),
            sources=facts,
        )
        await publish_eligible(res.redis, target.id)
        await announce_moved_in(res.redis, target.id, [m.customer_id for m in moved])
    res.assignments.forget(target.id)
    return result


async def start_selection_move(
    res: Resources, principal: Principal, body: MoveSelection
) -> BulkJobOut:
    async with res.session() as session:
        source = await session.get(Assignment, body.selection.assignment_id)
        if source is None or source.tenant_id != principal.tenant_id:
            raise NotFound(f"assignment {body.selection.assignment_id} not found")
        await target_of(
            session, principal.tenant_id, body.target_assignment_id, body.target_segment_id
        )
        total = await session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(Customer, Customer.id == Membership.customer_id)
            .where(body.selection.where(principal.tenant_id))
        )
        job = BulkJob(
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            kind=BulkKind.move,
            status=BulkStatus.queued,
            params=body.model_dump(mode="json"),
            total=total or 0,
        )
        session.add(job)
        await session.flush()
        out = bulk_job_out(job)
    # After the commit: the worker must find the job it is handed.
    await asyncio.to_thread(enqueue_bulk, res.settings, BulkKind.move, job.id)
    return out


# Newest first, by id.
BULK_JOBS: Keyset[IdKey] = Keyset("bulk-jobs", IdKey)


async def list_bulk_jobs(
    res: Resources, principal: Principal, *, page: PageRequest[IdKey]
) -> list[BulkJob]:
    query = select(BulkJob).where(BulkJob.tenant_id == principal.tenant_id)
    async with res.sessionmaker() as session:
        return list(await session.scalars(page.window(query, BulkJob.id, descending=True)))


async def get_bulk_job(res: Resources, principal: Principal, job_id: int) -> BulkJobOut:
    async with res.sessionmaker() as session:
        job = await session.get(BulkJob, job_id)
    if job is None or job.tenant_id != principal.tenant_id:
        raise NotFound(f"bulk job {job_id} not found")
    return bulk_job_out(job)


def bulk_job_out(job: BulkJob) -> BulkJobOut:
    return BulkJobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        params=job.params,
        total=job.total,
        processed=job.processed,
        succeeded=job.succeeded,
        failed=job.failed,
        errors=job.errors,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
