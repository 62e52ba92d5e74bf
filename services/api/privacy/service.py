"""The tenant's privacy record (rule 5) and irreversible anonymisation of a customer.

Anonymisation blanks what identifies a person and keeps every row reports count (memberships,
events, products, meetings), so reports give the same numbers before and after.
"""

import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.customer_details.access import tenant_customer
from services.api.privacy.schemas import AnonymisedOut, PrivacyIn, PrivacyOut
from services.api.resources import Resources
from services.api.users.names import user_names
from services.queue import AssignmentQueue
from shared.membership.anonymise import anonymous_external_id, blank_edit, blanked, may_anonymise
from shared.models import Customer, Event, EventKind, Meeting, Membership, Tenant


async def privacy(session: AsyncSession, tenant_id: int) -> PrivacyOut:
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None  # the caller's own tenant
    return PrivacyOut(
        data_controller=tenant.data_controller, processing_purpose=tenant.processing_purpose
    )


async def set_privacy(res: Resources, principal: Principal, body: PrivacyIn) -> PrivacyOut:
    async with res.session() as session:
        tenant = await session.get(Tenant, principal.tenant_id)
        assert tenant is not None
        tenant.data_controller = body.data_controller.strip()
        tenant.processing_purpose = body.processing_purpose.strip()
        return PrivacyOut(
            data_controller=tenant.data_controller, processing_purpose=tenant.processing_purpose
        )


async def _anonymous_external_id(session: AsyncSession, customer: Customer) -> str:
    candidate = anonymous_external_id(customer.id, taken=False, tail="")
    taken = await session.scalar(
        select(Customer.id).where(
            Customer.tenant_id == customer.tenant_id, Customer.external_id == candidate
        )
    )
    return anonymous_external_id(customer.id, taken=taken is not None, tail=secrets.token_hex(4))


async def _blank_history(session: AsyncSession, customer_id: int) -> None:
    """Free text of the past may name the person: comments, meeting notes and places, and
    the old and new values of CRM edits. Events keep kind, code, states, user and time."""
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


async def anonymise(res: Resources, principal: Principal, customer_id: int) -> AnonymisedOut:
    now = datetime.now(UTC)
    async with res.session() as session:
        customer = await tenant_customer(session, principal, customer_id, for_update=True)
        membership = await session.scalar(
            select(Membership).where(Membership.customer_id == customer.id)
        )
        queue = AssignmentQueue(res.redis, membership.assignment_id) if membership else None
        held = await queue.holder(customer.id) if queue is not None else None
        holder: tuple[int, str] | None = None
        if held is not None and customer.anonymised_at is None:
            names = await user_names(session, principal.tenant_id, {held.user_id})
            holder = (held.user_id, names.get(held.user_id, f"user {held.user_id}"))
        may_anonymise(customer_id, anonymised_at=customer.anonymised_at, holder=holder)
        for name, value in blanked(await _anonymous_external_id(session, customer), now).items():
            setattr(customer, name, value)
        await _blank_history(session, customer.id)
        event = Event(
            tenant_id=principal.tenant_id,
            customer_id=customer.id,
            assignment_id=membership.assignment_id if membership else None,
            user_id=principal.user_id,
            kind=EventKind.anonymised.value,
            created_at=now,
        )
        session.add(event)
        await session.flush()
        out = AnonymisedOut(
            customer_id=customer.id,
            external_id=customer.external_id,
            anonymised_at=now,
            event_id=event.id,
        )
    # After the commit: the rebuild reads anonymised customers as not to be served, so the
    # queue and PostgreSQL agree from here on.
    if queue is not None:
        await queue.remove([customer_id])
    return out
