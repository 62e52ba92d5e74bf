"""The tenant's privacy record (rule 5) and irreversible anonymisation of a customer.

Anonymisation blanks what identifies a person and keeps every row reports count (memberships,
events, products, meetings), so reports give the same numbers before and after.
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.audit.recording import audit
from services.api.auth.cache import Principal
from services.api.customer_details.access import tenant_customer
from services.api.privacy.schemas import AnonymisedOut, PrivacyIn, PrivacyOut
from services.api.resources import Resources
from services.api.users.names import user_names
from services.queue import AssignmentQueue
from shared.audit import AuditAction
from shared.membership.anonymise import may_anonymise
from shared.models import Membership, Tenant
from shared.privacy.anonymising import anonymise_customer


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
        audit(session, principal, AuditAction.privacy_notice_changed, ("tenant", tenant.id))
        return PrivacyOut(
            data_controller=tenant.data_controller, processing_purpose=tenant.processing_purpose
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
        event = await anonymise_customer(
            session,
            customer,
            assignment_id=membership.assignment_id if membership else None,
            user_id=principal.user_id,
            now=now,
        )
        audit(session, principal, AuditAction.customer_anonymised, ("customer", customer.id))
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
