"""Reading a customer's card: one primary-key query for the customer and its membership."""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.api.assignments.cache import AssignmentConfig
from services.api.work.schemas import (
    CardOut,
    CustomerOut,
    LeaseOut,
    MembershipOut,
    OutcomeChoice,
)
from shared.directdb import DirectPool, DirectStatement
from shared.flows import FlowSpec
from shared.models import Customer, Membership


@dataclass(slots=True)
class MembershipView:
    """A membership read as plain columns: what /next needs, without an ORM object.

    The holder's write changes a copy of it in memory before one statement stores the change
    (writes.py): an ORM object would cost its instrumentation on every outcome for nothing.
    """

    id: int
    tenant_id: int
    customer_id: int
    assignment_id: int
    segment_id: int | None
    state: str
    state_set_by: str
    state_set_by_user_id: int | None
    state_set_at: datetime | None
    attempts: int
    last_attempt_at: datetime | None
    followup_at: datetime | None
    followup_kind: str | None
    followup_owner_id: int | None
    version: int


class CustomerView(NamedTuple):
    id: int
    external_id: str
    first_name: str
    last_name: str
    phone_1: str | None
    phone_2: str | None
    phone_3: str | None
    email: str | None
    language: str | None
    time_zone: str | None
    custom: dict[str, Any]

    @property
    def phones(self) -> list[str]:
        return [p for p in (self.phone_1, self.phone_2, self.phone_3) if p]


_CARD_COLUMNS = (
    *(getattr(Membership, f.name) for f in fields(MembershipView)),
    *(getattr(Customer, name) for name in CustomerView._fields),
)
_SPLIT = len(fields(MembershipView))
# Built once: constructing a statement per request costs more than running it.
_CARD_QUERY = (
    select(*_CARD_COLUMNS)
    .join(Customer, Customer.id == Membership.customer_id)
    .where(
        Membership.customer_id == bindparam("customer_id"),
        Membership.tenant_id == bindparam("tenant_id"),
    )
)


_CARD_DIRECT = DirectStatement(_CARD_QUERY)


async def read_card(
    engine: AsyncEngine, customer_id: int, *, tenant_id: int, direct: DirectPool | None = None
) -> tuple[MembershipView, CustomerView] | None:
    """The hot path's one primary-key read: plain columns, outside any transaction.

    On PostgreSQL it runs on the direct pool (shared/directdb.py). Elsewhere AUTOCOMMIT sends
    no BEGIN and no ROLLBACK around the single SELECT, so the read costs one round trip.
    """
    params = {"customer_id": customer_id, "tenant_id": tenant_id}
    row: Sequence[Any] | None
    if direct is not None:
        row = await direct.fetchone(_CARD_DIRECT, params)
    else:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await conn.execute(_CARD_QUERY, params)).one_or_none()
    if row is None:
        return None
    return MembershipView(*row[:_SPLIT]), CustomerView(*row[_SPLIT:])


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


def membership_out(membership: Membership | MembershipView, flow: FlowSpec) -> MembershipOut:
    return MembershipOut(
        assignment_id=membership.assignment_id,
        segment_id=membership.segment_id,
        state=membership.state,
        state_kind=flow.kind_of(membership.state).value,
        state_set_by=membership.state_set_by,
        state_set_by_user_id=membership.state_set_by_user_id,
        state_set_at=membership.state_set_at,
        attempts=membership.attempts,
        last_attempt_at=membership.last_attempt_at,
        followup_at=membership.followup_at,
        followup_kind=membership.followup_kind,
        followup_owner_id=membership.followup_owner_id,
        version=membership.version,
    )


def card_out(
    membership: Membership | MembershipView,
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
