"""Follow-up lists for one user, honouring assignment visibility.

"Today" is the calendar day in the time zone the caller names (default UTC). A follow-up is
*passed* once its time is behind us and nobody took it (taking it ends or moves it).
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.my_work.schemas import FollowUpPage, FollowUpRow, WorkList
from services.api.visibility import visible_to
from shared.models import Assignment, Customer, FollowUpKind, Membership


async def visible_assignment_ids(session: AsyncSession, principal: Principal) -> list[int]:
    """The caller's tenant's assignments open to the caller now (a tenant has few of them)."""
    now = datetime.now(UTC)
    assignments = await session.scalars(
        select(Assignment).where(Assignment.tenant_id == principal.tenant_id)
    )
    return [a.id for a in assignments if visible_to(a, principal.user_id, now)]


def _day_bounds(tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(tz).date()
    start = datetime.combine(local, time.min, tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _condition(
    which: WorkList, principal: Principal, now: datetime, tz: ZoneInfo
) -> tuple[ColumnElement[bool], bool]:
    """The filter of one list, and whether it is newest first."""
    mine = and_(
        Membership.followup_kind == FollowUpKind.personal.value,
        Membership.followup_owner_id == principal.user_id,
    )
    shared = Membership.followup_kind == FollowUpKind.shared.value
    _, end_of_today = _day_bounds(tz, now)
    today = and_(Membership.followup_at >= now, Membership.followup_at < end_of_today)
    if which == WorkList.personal_today:
        return and_(mine, today), False
    if which == WorkList.shared_today:
        return and_(shared, today), False
    if which == WorkList.to_follow_up:
        not_passed = (Membership.followup_at >= now) | Membership.followup_at.is_(None)
        return and_(mine, not_passed), False
    if which == WorkList.passed_personal:
        return and_(mine, Membership.followup_at < now), True
    return and_(shared, Membership.followup_at < now), True


async def follow_up_page(
    session: AsyncSession,
    principal: Principal,
    which: WorkList,
    *,
    assignment_ids: list[int],
    tz: ZoneInfo,
    offset: int,
    limit: int,
) -> FollowUpPage:
    now = datetime.now(UTC)
    condition, newest_first = _condition(which, principal, now, tz)
    where = and_(
        Membership.tenant_id == principal.tenant_id,
        Membership.assignment_id.in_(assignment_ids),
        condition,
    )
    total = await session.scalar(select(func.count()).select_from(Membership).where(where))
    order = Membership.followup_at.desc() if newest_first else Membership.followup_at.asc()
    query = (
        select(Membership, Customer, Assignment.name)
        .join(Customer, Customer.id == Membership.customer_id)
        .join(Assignment, Assignment.id == Membership.assignment_id)
        .where(where)
        .order_by(order.nulls_last(), Membership.id)
        .offset(offset)
        .limit(limit)
    )
    rows = [
        FollowUpRow(
            customer_id=c.id,
            customer_name=c.display_name,
            assignment_id=m.assignment_id,
            assignment_name=name,
            segment_id=m.segment_id,
            state=m.state,
            followup_at=m.followup_at,
            followup_kind=m.followup_kind or "",
            followup_owner_id=m.followup_owner_id,
        )
        for m, c, name in (await session.execute(query)).all()
    ]
    return FollowUpPage(name=which, total=total or 0, offset=offset, limit=limit, rows=rows)
