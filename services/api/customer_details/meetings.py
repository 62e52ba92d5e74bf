"""Cancelling a booked meeting: marked with its time and who, never deleted (rule 24)."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.customer_details.access import visible_customer
from services.api.errors import Conflict, NotFound
from shared.models import Event, EventKind, Meeting


async def cancel_meeting(
    session: AsyncSession, principal: Principal, customer_id: int, meeting_id: int
) -> None:
    """Mark the meeting cancelled and record it in the customer's history; not committed."""
    found = await visible_customer(session, principal, customer_id)
    meeting = await session.scalar(
        select(Meeting)
        .where(Meeting.id == meeting_id, Meeting.customer_id == found.customer.id)
        .with_for_update()
    )
    if meeting is None:
        raise NotFound(f"meeting {meeting_id} not found for customer {customer_id}")
    if meeting.cancelled_at is not None:
        raise Conflict(f"meeting {meeting_id} was cancelled already")
    meeting.cancelled_at = datetime.now(UTC)
    membership = found.membership
    session.add(
        Event(
            tenant_id=principal.tenant_id,
            customer_id=found.customer.id,
            assignment_id=meeting.assignment_id,
            user_id=principal.user_id,
            kind=EventKind.meeting_cancelled,
            from_state=membership.state if membership else None,
            to_state=membership.state if membership else None,
            data={"meeting_id": meeting.id, "starts_at": meeting.starts_at.isoformat()},
        )
    )
