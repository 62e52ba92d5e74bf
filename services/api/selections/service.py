"""Counting a selection, the outcomes it offers, and putting it into a segment (rule 28)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.schemas import SegmentCreate
from services.api.assignments.service import create_segment, get_assignment, place_customers
from services.api.auth.cache import Principal
from services.api.errors import NotFound
from services.api.moves.schemas import MoveSelection
from services.api.moves.service import start_selection_move
from services.api.resources import Resources
from services.api.selections.schemas import (
    CountOut,
    OfferedOut,
    OutcomesOut,
    SegmentedOut,
    SegmentRequest,
)
from services.queue.broadcast import publish_eligible
from shared.membership.moving import flow_of, move_memberships
from shared.models import Assignment, Customer, Membership, Segment
from shared.selections.bulk_outcome import (
    nothing_offered_reason,
    offered_outcomes,
    selection_counts,
)
from shared.selections.selection import Selection

# Selections up to this size are handled in the request, in one transaction; larger ones by
# a worker job with progress. A thousand memberships and events write in well under a second
# and keep one request's transaction (and the rows it locks) short.
INLINE_LIMIT = 1000


async def count(res: Resources, principal: Principal, selection: Selection) -> CountOut:
    async with res.session() as session:
        await get_assignment(session, principal.tenant_id, selection.assignment_id)
        counts = await selection_counts(session, principal.tenant_id, selection)
    return CountOut(
        count=counts.total,
        by_state=counts.by_state,
        by_segment={str(s or 0): n for s, n in counts.by_segment.items()},
    )


async def outcomes(res: Resources, principal: Principal, selection: Selection) -> OutcomesOut:
    """The outcomes valid for every selected customer: the intersection over its states."""
    async with res.session() as session:
        assignment = await get_assignment(session, principal.tenant_id, selection.assignment_id)
        flow = await flow_of(session, assignment)
        counts = await selection_counts(session, principal.tenant_id, selection)
    offered = offered_outcomes(flow, counts.by_state)
    return OutcomesOut(
        count=counts.total,
        by_state=counts.by_state,
        outcomes=[
            OfferedOut(
                code=o.code,
                name=o.name,
                to_state=o.to_state,
                follow_up=o.follow_up,
                follow_up_time_required=o.follow_up_time_required,
            )
            for o in offered
        ],
        reason=nothing_offered_reason(counts.by_state, offered),
    )


async def segment(res: Resources, principal: Principal, body: SegmentRequest) -> SegmentedOut:
    """Into a new or an existing segment of the selection's assignment; states are kept.

    Small selections move here in the segment's own transaction; large ones are handed to the
    moves job (a move within one assignment only changes the segment, rule 9).
    """
    selection = body.selection
    async with res.session() as session:
        assignment = await get_assignment(session, principal.tenant_id, selection.assignment_id)
        target = await _target_segment(session, assignment, body)
        total = (await selection_counts(session, principal.tenant_id, selection)).total
        created = body.segment_id is None
        out = SegmentedOut(segment_id=target.id, name=target.name, created=created, count=total)
        moved_ids: list[int] = []
        if total <= INLINE_LIMIT:
            moved_ids = await _move_inline(session, principal, assignment, target, selection)
    res.assignments.forget(assignment.id)
    if total > INLINE_LIMIT:
        out.job = await start_selection_move(
            res,
            principal,
            MoveSelection(
                selection=selection,
                target_assignment_id=assignment.id,
                target_segment_id=target.id,
            ),
        )
        return out
    async with res.sessionmaker() as session:
        await place_customers(session, res.redis, assignment, customer_ids=moved_ids)
    await publish_eligible(res.redis, assignment.id)
    return out


async def _target_segment(
    session: AsyncSession, assignment: Assignment, body: SegmentRequest
) -> Segment:
    if body.name is not None:
        return await create_segment(session, assignment, data=SegmentCreate(name=body.name))
    found = await session.get(Segment, body.segment_id)
    if found is None or found.assignment_id != assignment.id:
        raise NotFound(f"segment {body.segment_id} not found in assignment {assignment.id}")
    return found


async def _move_inline(
    session: AsyncSession,
    principal: Principal,
    assignment: Assignment,
    target: Segment,
    selection: Selection,
) -> list[int]:
    memberships = list(
        await session.scalars(
            select(Membership)
            .join(Customer, Customer.id == Membership.customer_id)
            .where(selection.where(principal.tenant_id))
            .order_by(Membership.id)
        )
    )
    moved = await move_memberships(
        session,
        memberships,
        target=assignment,
        target_segment_id=target.id,
        user_id=principal.user_id,
    )
    return [m.customer_id for m in moved]
