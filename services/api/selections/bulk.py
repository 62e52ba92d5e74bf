"""Bulk outcome on a selection (rule 28): checked, then applied all or nothing.

Up to INLINE_LIMIT customers are written in the request's one transaction; a larger
selection becomes a bulk job run by services/worker/jobs/outcomes.py, which checks again
when it runs.
"""

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.service import get_assignment
from services.api.auth.cache import Principal
from services.api.moves.schemas import BulkJobOut
from services.api.moves.service import bulk_job_out
from services.api.resources import Resources
from services.api.selections.schemas import BulkOutcomeOut, BulkOutcomeRequest
from services.api.selections.service import INLINE_LIMIT
from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from shared.infra.jobqueue import enqueue_bulk
from shared.infra.timeutil import as_utc
from shared.membership.moving import flow_of
from shared.models import BulkJob, BulkKind, BulkStatus
from shared.selections import bulk_outcome
from shared.selections.bulk_outcome import BulkOutcome


async def apply(
    res: Resources, principal: Principal, body: BulkOutcomeRequest
) -> BulkOutcomeOut | BulkJobOut:
    """Applied now (up to INLINE_LIMIT customers) or handed to a worker job."""
    bulk = BulkOutcome(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        selection=body.selection,
        code=body.code,
        comment=body.comment,
        follow_up_at=as_utc(body.follow_up_at) if body.follow_up_at else None,
        event_data={"bulk": True},
    )
    queue = AssignmentQueue(res.redis, body.selection.assignment_id)
    async with res.session() as session:
        assignment = await get_assignment(
            session, principal.tenant_id, body.selection.assignment_id
        )
        flow = await flow_of(session, assignment)
        counts = await bulk_outcome.check(
            session, queue, flow, bulk, expected_count=body.expected_count
        )
        if counts.total > INLINE_LIMIT:
            queued: BulkJobOut | None = await _new_job(session, principal, body, counts.total)
            written: list[int] = []
        else:
            queued = None
            written = await bulk_outcome.write_all(
                session, flow, bulk, expected=counts.total, now=datetime.now(UTC)
            )
    if queued is not None:
        # After the commit: the worker must find the job it is handed.
        await asyncio.to_thread(enqueue_bulk, res.settings, BulkKind.outcome, queued.id)
        return queued
    async with res.sessionmaker() as session:
        await bulk_outcome.replace(session, queue, assignment, flow, written)
    await publish_eligible(res.redis, assignment.id)
    return BulkOutcomeOut(code=body.code, count=len(written))


async def _new_job(
    session: AsyncSession, principal: Principal, body: BulkOutcomeRequest, total: int
) -> BulkJobOut:
    job = BulkJob(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        kind=BulkKind.outcome,
        status=BulkStatus.queued,
        params=body.model_dump(mode="json"),
        total=total,
    )
    session.add(job)
    await session.flush()
    return bulk_job_out(job)
