"""The "to correct" list of My Work: the caller's open corrections, oldest first (rule 26a).

A correction counts as open while it is unresolved and its customer still waits in
"@correction" in the same assignment; a customer moved away meanwhile leaves the list.
"""

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.corrections.schemas import ToCorrectPage, ToCorrectRow, UserRef
from services.api.corrections.service import outcome_refs
from services.api.pagination import KeyId, Keyset, KeyTime, PageRequest
from services.api.users.names import user_names
from shared.flows import FlowSpec
from shared.membership.moving import flow_of
from shared.models import CORRECTION_STATE, Assignment, Correction, Customer, Membership

# Oldest first: by the time it was sent, then id.
ToCorrectKey = tuple[KeyTime, KeyId]
TO_CORRECT: Keyset[ToCorrectKey] = Keyset("to-correct", ToCorrectKey)

_WAITING = and_(
    Membership.customer_id == Correction.customer_id,
    Membership.assignment_id == Correction.assignment_id,
    Membership.state == CORRECTION_STATE,
)


def _mine(principal: Principal) -> ColumnElement[bool]:
    return and_(
        Correction.tenant_id == principal.tenant_id,
        Correction.owner_user_id == principal.user_id,
        Correction.resolved_at.is_(None),
    )


async def to_correct_count(session: AsyncSession, principal: Principal) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(Correction)
        .join(Membership, _WAITING)
        .where(_mine(principal))
    )
    return total or 0


async def to_correct_page(
    session: AsyncSession, principal: Principal, *, page: PageRequest[ToCorrectKey]
) -> ToCorrectPage:
    query = (
        select(Correction, Customer, Assignment)
        .join(Membership, _WAITING)
        .join(Customer, Customer.id == Correction.customer_id)
        .join(Assignment, Assignment.id == Correction.assignment_id)
        .where(_mine(principal))
    )
    found = (await session.execute(page.window(query, Correction.created_at, Correction.id))).all()
    names = await user_names(
        session, principal.tenant_id, {c.requested_by_user_id for c, _, _ in found}
    )
    # A user has few open corrections, in few assignments: one flow read per assignment.
    flows: dict[int, FlowSpec] = {}
    for _, _, assignment in found:
        if assignment.id not in flows:
            flows[assignment.id] = await flow_of(session, assignment)
    rows = [
        ToCorrectRow(
            correction_id=correction.id,
            customer_id=customer.id,
            customer_name=customer.display_name,
            assignment_id=assignment.id,
            assignment_name=assignment.name,
            reason=correction.reason,
            allowed_outcomes=outcome_refs(flows[assignment.id], correction.allowed_outcomes),
            requested_by=UserRef(
                id=correction.requested_by_user_id,
                name=names.get(correction.requested_by_user_id, ""),
            ),
            created_at=correction.created_at,
        )
        for correction, customer, assignment in found
    ]
    total = await to_correct_count(session, principal)
    return page.answer(
        ToCorrectPage, rows, key=lambda r: (r.created_at, r.correction_id), total=total
    )
