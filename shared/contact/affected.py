"""The customers whose place in a queue depends on some numbers: re-placed when a bar on
those numbers is added or lifted."""

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Customer, Membership

# Customer ids per assignment whose queue place must be recomputed.
Affected = Mapping[int, Sequence[int]]


async def affected_by(session: AsyncSession, tenant_id: int, phones: Collection[str]) -> Affected:
    """The tenant's customers with one of these numbers on their card, by their active
    assignment."""
    wanted = list(phones)
    rows = await session.execute(
        select(Membership.assignment_id, Membership.customer_id)
        .join(Customer, Customer.id == Membership.customer_id)
        .where(
            Membership.tenant_id == tenant_id,
            Customer.tenant_id == tenant_id,
            or_(
                Customer.phone_1.in_(wanted),
                Customer.phone_2.in_(wanted),
                Customer.phone_3.in_(wanted),
            ),
        )
    )
    by_assignment: defaultdict[int, list[int]] = defaultdict(list)
    for assignment_id, customer_id in rows:
        by_assignment[assignment_id].append(customer_id)
    return by_assignment
