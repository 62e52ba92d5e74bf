"""Reading a customer's details and history (rule 24). Reading never takes the customer."""

from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.customer_details.access import Found, visible_customer
from services.api.customer_details.schemas import (
    CustomerDetails,
    CustomerFields,
    EventOut,
    EventPage,
    HolderOut,
    MeetingOut,
    MembershipDetails,
    ProductOut,
    ProductsOut,
    UserRef,
)
from services.api.pagination import IdKey, Keyset, PageRequest, by_id
from services.api.privacy.service import privacy
from services.api.users.names import user_names
from services.queue import AssignmentQueue, Holder
from shared.membership.moving import flow_of
from shared.models import (
    CORRECTION_STATE,
    Customer,
    Event,
    Meeting,
    Product,
    ProductStatus,
    Segment,
)

UNSEGMENTED = "unsegmented"
CORRECTION_STATE_NAME = "To correct"

# Newest first: ids grow with time, and the customer's (customer_id, id) index walks them.
EVENTS: Keyset[IdKey] = Keyset("events", IdKey)


def _ref(user_id: int | None, names: dict[int, str]) -> UserRef | None:
    if user_id is None:
        return None
    return UserRef(id=user_id, name=names.get(user_id, ""))


def customer_fields(customer: Customer) -> CustomerFields:
    return CustomerFields(
        id=customer.id,
        external_id=customer.external_id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        phone_1=customer.phone_1,
        phone_2=customer.phone_2,
        phone_3=customer.phone_3,
        email=customer.email,
        language=customer.language,
        time_zone=customer.time_zone,
        country=customer.country,
        account_type=customer.account_type,
        city=customer.city,
        custom=customer.custom or {},
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        anonymised_at=customer.anonymised_at,
    )


async def _membership(
    session: AsyncSession, found: Found, names: dict[int, str]
) -> MembershipDetails | None:
    membership, assignment = found.membership, found.assignment
    if membership is None or assignment is None:
        return None
    flow = await flow_of(session, assignment)
    segment_name = UNSEGMENTED
    if membership.segment_id is not None:
        segment = await session.get(Segment, membership.segment_id)
        segment_name = segment.name if segment is not None else ""
    state_name = next((s.name for s in flow.states if s.key == membership.state), membership.state)
    if membership.state == CORRECTION_STATE:
        state_name = CORRECTION_STATE_NAME
    return MembershipDetails(
        assignment_id=assignment.id,
        assignment_name=assignment.name,
        segment_id=membership.segment_id,
        segment_name=segment_name,
        state=membership.state,
        state_name=state_name,
        state_kind=flow.kind_of(membership.state).value,
        state_set_by=membership.state_set_by,
        state_set_by_user=_ref(membership.state_set_by_user_id, names),
        state_set_at=membership.state_set_at,
        attempts=membership.attempts,
        last_attempt_at=membership.last_attempt_at,
        followup_at=membership.followup_at,
        followup_kind=membership.followup_kind,
        followup_owner=_ref(membership.followup_owner_id, names),
        version=membership.version,
    )


def _product(p: Product) -> ProductOut:
    return ProductOut(
        id=p.id,
        name=p.name,
        status=p.status,
        quantity=p.quantity,
        amount_minor=p.amount_minor,
        currency=p.currency,
        assignment_id=p.assignment_id,
        event_id=p.event_id,
        user_id=p.user_id,
        created_at=p.created_at,
    )


def _meeting(m: Meeting) -> MeetingOut:
    return MeetingOut(
        id=m.id,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        location=m.location,
        note=m.note,
        assignment_id=m.assignment_id,
        event_id=m.event_id,
        user_id=m.user_id,
        cancelled=m.cancelled_at is not None,
        cancelled_at=m.cancelled_at,
    )


async def holder_of(redis: Redis, found: Found) -> Holder | None:
    """Who leases the customer in its assignment's queue now (Redis is where leases live)."""
    if found.membership is None:
        return None
    return await AssignmentQueue(redis, found.membership.assignment_id).holder(found.customer.id)


async def details(
    session: AsyncSession, redis: Redis, principal: Principal, customer_id: int
) -> CustomerDetails:
    found = await visible_customer(session, principal, customer_id)
    return await details_of(session, redis, principal, found)


async def details_of(
    session: AsyncSession, redis: Redis, principal: Principal, found: Found
) -> CustomerDetails:
    customer = found.customer
    holder = await holder_of(redis, found)
    products = list(
        await session.scalars(
            select(Product).where(Product.customer_id == customer.id).order_by(Product.id.desc())
        )
    )
    meetings = list(
        await session.scalars(
            select(Meeting)
            .where(Meeting.customer_id == customer.id)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        )
    )
    m = found.membership
    names = await user_names(
        session,
        principal.tenant_id,
        {
            m.state_set_by_user_id if m else None,
            m.followup_owner_id if m else None,
            holder.user_id if holder else None,
        },
    )
    return CustomerDetails(
        customer=customer_fields(customer),
        privacy=await privacy(session, principal.tenant_id),
        membership=await _membership(session, found, names),
        holder=None
        if holder is None
        else HolderOut(
            user=UserRef(id=holder.user_id, name=names.get(holder.user_id, "")),
            lease_expires_at=datetime.fromtimestamp(holder.lease_expires_ms / 1000, UTC),
        ),
        products=ProductsOut(
            offered=[_product(p) for p in products if p.status == ProductStatus.offered],
            sold=[_product(p) for p in products if p.status == ProductStatus.sold],
        ),
        meetings=[_meeting(x) for x in meetings],
    )


async def events_page(
    session: AsyncSession,
    principal: Principal,
    customer_id: int,
    *,
    page: PageRequest[IdKey],
) -> EventPage:
    """Every event of the customer across assignments, newest first, by id (keyset)."""
    found = await visible_customer(session, principal, customer_id)
    query = select(Event).where(
        Event.customer_id == found.customer.id, Event.tenant_id == principal.tenant_id
    )
    events = list(await session.scalars(page.window(query, Event.id, descending=True)))
    names = await user_names(
        session, principal.tenant_id, {e.user_id for e in events[: page.limit]}
    )
    return page.answer(
        EventPage,
        events,
        key=by_id,
        item=lambda e: _event_out(e, names),
    )


def _event_out(e: Event, names: dict[int, str]) -> EventOut:
    return EventOut(
        id=e.id,
        kind=e.kind,
        code=e.code,
        from_state=e.from_state,
        to_state=e.to_state,
        comment=e.comment,
        data=e.data or {},
        user=_ref(e.user_id, names),
        assignment_id=e.assignment_id,
        created_at=e.created_at,
        excluded_from_reports=e.excluded_from_reports,
        report_user_id=e.report_user_id,
        report_at=e.report_at,
        corrects_event_id=e.corrects_event_id,
        corrected_by_event_id=e.corrected_by_event_id,
    )
