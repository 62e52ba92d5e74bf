"""A customer's card as the API shows it (the hot path reads it through the store,
shared/membership/store.py)."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.cache import AssignmentConfig
from services.api.work.schemas import (
    CardOut,
    CustomerOut,
    LeaseOut,
    MembershipOut,
    OutcomeChoice,
)
from shared.flows import FlowSpec
from shared.membership.record import SHOWN_COLUMNS, MembershipRecord
from shared.membership.statements import CustomerView
from shared.models import Customer, Membership


async def load_card(
    session: AsyncSession, customer_id: int, *, tenant_id: int
) -> tuple[Membership, Customer] | None:
    query = (
        select(Membership, Customer)
        .join(Customer, Customer.id == Membership.customer_id)
        .where(Membership.customer_id == customer_id, Membership.tenant_id == tenant_id)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


def customer_out(customer: Customer | CustomerView) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        external_id=customer.external_id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        phones=customer.phones,
        email=customer.email,
        language=customer.language,
        time_zone=customer.time_zone,
        custom=customer.custom,
    )


def membership_out(membership: Membership | MembershipRecord, flow: FlowSpec) -> MembershipOut:
    values = {name: getattr(membership, name) for name in SHOWN_COLUMNS}
    values["state_kind"] = flow.kind_of(membership.state).value
    return MembershipOut(**values)


def card_out(
    membership: Membership | MembershipRecord,
    customer: Customer | CustomerView,
    config: AssignmentConfig,
    *,
    source: str,
    lease_token: str,
    lease_expires_ms: int,
) -> CardOut:
    flow = config.flow
    return CardOut(
        source=source,
        lease=LeaseOut(
            id=lease_token, expires_at=datetime.fromtimestamp(lease_expires_ms / 1000, UTC)
        ),
        customer=customer_out(customer),
        membership=membership_out(membership, flow),
        outcomes=[
            OutcomeChoice(
                code=o.code,
                name=o.name,
                to_state=o.to_state,
                follow_up=o.follow_up.value,
                follow_up_time_required=o.follow_up_time_required,
            )
            for o in flow.outcomes
            if membership.state in o.from_states
        ],
    )
