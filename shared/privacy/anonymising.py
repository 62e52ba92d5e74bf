"""Anonymising one customer in the caller's unit of work (rule 5, decision 008): the API's
request and the worker's retention job write the same thing.

Free text of the past may name the person, so comments, meeting notes and places, and the old
and new values of CRM edits are blanked too; events keep kind, code, states, user and time,
so reports count the same.
"""

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.membership.anonymise import anonymous_external_id, blank_edit, blanked
from shared.models import Customer, Event, EventKind, Meeting


async def _anonymous_external_id(session: AsyncSession, customer: Customer) -> str:
    candidate = anonymous_external_id(customer.id, taken=False, tail="")
    taken = await session.scalar(
        select(Customer.id).where(
            Customer.tenant_id == customer.tenant_id, Customer.external_id == candidate
        )
    )
    return anonymous_external_id(customer.id, taken=taken is not None, tail=secrets.token_hex(4))


async def _blank_history(session: AsyncSession, customer_id: int) -> None:
    await session.execute(update(Event).where(Event.customer_id == customer_id).values(comment=""))
    edits = await session.scalars(
        select(Event).where(
            Event.customer_id == customer_id, Event.kind == EventKind.customer_edited.value
        )
    )
    for event in edits:
        event.data = blank_edit(event.data)
    await session.execute(
        update(Meeting).where(Meeting.customer_id == customer_id).values(note="", location="")
    )


async def anonymise_customer(
    session: AsyncSession,
    customer: Customer,
    *,
    assignment_id: int | None,
    user_id: int | None,
    now: datetime,
    **data: Any,
) -> Event:
    """Blank the customer and its history and add the `anonymised` event (by `user_id`, or
    by the system when None; `data` says why, without personal data). Not committed."""
    for name, value in blanked(await _anonymous_external_id(session, customer), now).items():
        setattr(customer, name, value)
    await _blank_history(session, customer.id)
    event = Event(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        assignment_id=assignment_id,
        user_id=user_id,
        kind=EventKind.anonymised.value,
        data=data,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    return event
