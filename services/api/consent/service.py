"""Recording consent and putting the customer where its queue now wants it."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.service import place_customers
from services.api.auth.cache import Principal
from services.api.consent.schemas import ConsentCreate, ConsentOut
from services.api.customer_details.access import visible_customer
from services.api.pagination import IdKey, Keyset, PageRequest
from services.api.resources import Resources
from services.queue.broadcast import publish_eligible
from shared.contact import consent
from shared.contact.bars import Bar
from shared.infra import metrics
from shared.infra.clock import utc_now
from shared.models import Assignment, Channel, Consent

CONSENTS: Keyset[IdKey] = Keyset("consents", IdKey)


def consent_out(entry: Consent) -> ConsentOut:
    return ConsentOut(
        id=entry.id,
        channel=Channel(entry.channel),
        given=entry.given,
        purpose=entry.purpose,
        source=entry.source,
        at=entry.at,
        recorded_by=entry.recorded_by,
        recorded_at=entry.created_at,
    )


async def history(
    session: AsyncSession, principal: Principal, customer_id: int, *, page: PageRequest[IdKey]
) -> Sequence[Consent]:
    await visible_customer(session, principal, customer_id)
    query = select(Consent).where(
        Consent.customer_id == customer_id, Consent.tenant_id == principal.tenant_id
    )
    return (await session.scalars(page.window(query, Consent.id, descending=True))).all()


async def record(
    session: AsyncSession, principal: Principal, customer_id: int, body: ConsentCreate
) -> tuple[Consent, Assignment | None]:
    """The entry, and the assignment whose queue must follow it (one requiring consent)."""
    found = await visible_customer(session, principal, customer_id, for_update=True)
    entry = await consent.record(
        session,
        found.customer,
        channel=body.channel,
        given=body.given,
        purpose=body.purpose,
        source=body.source,
        at=body.at or utc_now(),
        recorded_by=principal.user_id,
    )
    assignment = found.assignment
    if body.channel != Channel.phone or assignment is None or not assignment.consent_required:
        assignment = None
    return entry, assignment


async def replace(
    resources: Resources, assignment: Assignment, customer_id: int, *, given: bool
) -> None:
    """After the commit: the customer leaves the queue (withdrawn) or returns to it (given)."""
    async with resources.sessionmaker() as session:
        await place_customers(session, resources.redis, assignment, customer_ids=[customer_id])
    if given:
        await publish_eligible(resources.redis, assignment.id)
    else:
        metrics.CONTACT_BARS.labels(Bar.consent).inc()
