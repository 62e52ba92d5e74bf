"""Moving customers between assignments and segments (rule 9), the database side (the rule
itself: shared/membership/moves.py).

Callers commit, then take the moved customers out of their old queues and place them in the
new one (services.queue), and broadcast to the target assignment.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.flows import FlowSpec
from shared.membership.events import event_of
from shared.membership.moves import move
from shared.membership.record import record_of, store_into
from shared.models import Assignment, Event, Flow, Membership
from shared.webhooks import outbox
from shared.webhooks.types import WebhookType


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
    events: list[Event] = []
    for m in memberships:
        source = m.assignment_id
        change = move(
            record_of(m),
            target_assignment_id=target.id,
            target_segment_id=target_segment_id,
            initial_state=initial,
            user_id=user_id,
            now=now,
        )
        if change is None:
            continue
        store_into(m, change.record)
        event = event_of(change.event, change.record, user_id=user_id, created_at=now)
        session.add(event)
        moved.append(Moved(m.customer_id, source))
        events.append(event)
    await session.flush()
    await outbox.enqueue_events(session, WebhookType.customer_moved, *events)
    return moved


async def memberships_of(session: AsyncSession, customer_ids: list[int]) -> list[Membership]:
    found = await session.scalars(
        select(Membership).where(Membership.customer_id.in_(customer_ids)).order_by(Membership.id)
    )
    return list(found)
