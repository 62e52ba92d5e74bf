"""Which customer a caller may read: its tenant's, in an assignment open to the caller."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.errors import NotFound
from services.api.visibility import visible_to
from shared.models import Assignment, Customer, Membership, Permission


@dataclass(frozen=True, slots=True)
class Found:
    customer: Customer
    membership: Membership | None
    assignment: Assignment | None


def sees_every_assignment(principal: Principal) -> bool:
    """Extended handling (and administrators) work across assignments (DESIGN 3.8)."""
    return principal.has(Permission.extended_handling.value)


async def tenant_customer(
    session: AsyncSession, principal: Principal, customer_id: int, *, for_update: bool = False
) -> Customer:
    """The caller's tenant's customer; another tenant's answers 404 (rule 1)."""
    query = select(Customer).where(
        Customer.id == customer_id, Customer.tenant_id == principal.tenant_id
    )
    if for_update:
        query = query.with_for_update()
    customer = await session.scalar(query)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


async def visible_customer(
    session: AsyncSession, principal: Principal, customer_id: int, *, for_update: bool = False
) -> Found:
    """The customer with its membership; 404 when its assignment is not open to the caller.

    A customer in no assignment is a plain CRM profile: every customer handler sees it.
    """
    customer = await tenant_customer(session, principal, customer_id, for_update=for_update)
    row = (
        await session.execute(
            select(Membership, Assignment)
            .join(Assignment, Assignment.id == Membership.assignment_id)
            .where(Membership.customer_id == customer.id)
        )
    ).first()
    if row is None:
        return Found(customer, None, None)
    membership, assignment = row
    if not sees_every_assignment(principal) and not visible_to(
        assignment, principal.user_id, datetime.now(UTC)
    ):
        raise NotFound(f"customer {customer_id} not found")
    return Found(customer, membership, assignment)
