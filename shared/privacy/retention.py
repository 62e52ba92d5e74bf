"""Retention (issue 15 point 5): customers without activity for a policy's months are
anonymised. A tenant's policy covers its customers; an assignment's policy covers the
customers in it instead (shorter or longer), decision 034.

Activity is anything that happened to the customer or is planned with it: its creation or
last CRM edit, any event of its history, a follow-up or a meeting at or after the cut-off.
"""

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Customer, Event, Meeting, Membership, RetentionPolicy

MIN_MONTHS = 1
# Twenty years: longer than any retention a contact centre's purpose would justify.
MAX_MONTHS = 240


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when the
    day does not exist there: 31 March less one month is 28 or 29 February)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = total // 12, total % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Scope:
    """One policy as it applies: the tenant's (`assignment_id` None, leaving out the
    assignments with their own) or one assignment's."""

    tenant_id: int
    months: int
    assignment_id: int | None = None
    others: tuple[int, ...] = ()  # the assignments with a policy of their own

    @property
    def name(self) -> str:
        return "tenant" if self.assignment_id is None else "assignment"


async def scopes(session: AsyncSession) -> list[Scope]:
    """Every policy of every tenant, as it applies."""
    policies = list(await session.scalars(select(RetentionPolicy).order_by(RetentionPolicy.id)))
    own: dict[int, list[int]] = {}
    for p in policies:
        if p.assignment_id is not None:
            own.setdefault(p.tenant_id, []).append(p.assignment_id)
    return [
        Scope(p.tenant_id, p.months, p.assignment_id, tuple(own.get(p.tenant_id, ())))
        if p.assignment_id is None
        else Scope(p.tenant_id, p.months, p.assignment_id)
        for p in policies
    ]


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    if scope.assignment_id is not None:
        return Membership.assignment_id == scope.assignment_id
    if not scope.others:
        return true()
    return or_(Membership.assignment_id.is_(None), Membership.assignment_id.not_in(scope.others))


def _inactive_since(cutoff: datetime) -> ColumnElement[bool]:
    recent_event = exists().where(Event.customer_id == Customer.id, Event.created_at >= cutoff)
    coming_meeting = exists().where(Meeting.customer_id == Customer.id, Meeting.starts_at >= cutoff)
    return and_(
        Customer.created_at < cutoff,
        Customer.updated_at < cutoff,
        or_(Membership.followup_at.is_(None), Membership.followup_at < cutoff),
        not_(recent_event),
        not_(coming_meeting),
    )


async def inactive_customers(
    session: AsyncSession, scope: Scope, *, cutoff: datetime, after_id: int, limit: int
) -> Sequence[tuple[int, int | None]]:
    """(customer id, its assignment id) of the scope's customers without activity since
    `cutoff`, not yet anonymised, past `after_id` in id order."""
    rows = await session.execute(
        select(Customer.id, Membership.assignment_id)
        .outerjoin(Membership, Membership.customer_id == Customer.id)
        .where(
            Customer.tenant_id == scope.tenant_id,
            Customer.anonymised_at.is_(None),
            Customer.id > after_id,
            _in_scope(scope),
            _inactive_since(cutoff),
        )
        .order_by(Customer.id)
        .limit(limit)
    )
    return [(customer_id, assignment_id) for customer_id, assignment_id in rows.all()]
