"""Moving customers between assignments and segments (rule 9), the database side.

Callers commit, then take the moved customers out of their old queues and place them in the
new one (services.queue), and broadcast to the target assignment.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.flows import FlowSpec
from shared.models import Assignment, Event, EventKind, Flow, Membership


@dataclass(frozen=True, slots=True)
class Moved:
    customer_id: int
    from_assignment_id: int


async def flow_of(session: AsyncSession, assignment: Assignment) -> FlowSpec:
    flow = await session.get(Flow, assignment.flow_id)
    assert flow is not None  # foreign key
    return FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})


async def move_memberships(
    session: AsyncSession,
    memberships: list[Membership],
    *,
    target: Assignment,
    target_segment_id: int | None,
    user_id: int,
) -> list[Moved]:
    """Move to `target` (free and unsegmented there unless a segment is named; follow-ups
    dropped; history kept) or, within the same assignment, only change the segment."""
    now = datetime.now(UTC)
    initial = (await flow_of(session, target)).initial_state
    moved: list[Moved] = []
    for m in memberships:
        source = m.assignment_id
        if source == target.id:
            if m.segment_id == target_segment_id:
                continue
            data: dict[str, Any] = {
                "from_segment_id": m.segment_id,
                "to_segment_id": target_segment_id,
            }
            m.segment_id = target_segment_id
            to_state = m.state
        else:
            data = {
                "from_assignment_id": source,
                "to_assignment_id": target.id,
                "from_state": m.state,
            }
            m.assignment_id = target.id
            m.segment_id = target_segment_id
            m.state = initial
            m.state_set_by = "move"
            m.state_set_by_user_id = user_id
            m.state_set_at = now
            m.attempts = 0
            m.last_attempt_at = None
            m.followup_at = None
            m.followup_kind = None
            m.followup_owner_id = None
            to_state = initial
        session.add(
            Event(
                tenant_id=m.tenant_id,
                customer_id=m.customer_id,
                assignment_id=target.id,
                user_id=user_id,
                kind=EventKind.moved,
                to_state=to_state,
                data=data,
                created_at=now,
            )
        )
        moved.append(Moved(m.customer_id, source))
    await session.flush()
    return moved


async def memberships_of(session: AsyncSession, customer_ids: list[int]) -> list[Membership]:
    found = await session.scalars(
        select(Membership).where(Membership.customer_id.in_(customer_ids)).order_by(Membership.id)
    )
    return list(found)
