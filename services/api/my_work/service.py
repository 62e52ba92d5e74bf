"""Follow-up lists for one user, honouring assignment visibility.

"Today" is the calendar day in the time zone the caller names (default UTC). A follow-up is
*passed* once its time is behind us and nobody took it (taking it ends or moves it).
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.my_work.schemas import FollowUpPage, FollowUpRow, WorkList
from services.api.pagination import KeyId, Keyset, KeyTime, PageRequest, ordered, past
from services.api.visibility import visible_to
from shared.models import Assignment, Customer, FollowUpKind, Membership

# Every list by follow-up time, then membership id (upcoming lists earliest first with the
# untimed ones last; passed lists newest first).
FollowUpKey = tuple[KeyTime | None, KeyId]
MY_WORK: Keyset[FollowUpKey] = Keyset("my-work", FollowUpKey)


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


def _past(key: FollowUpKey | None, newest_first: bool) -> ColumnElement[bool]:
    """Rows after `key`: a passed follow-up always has a time; an upcoming one may have
    none, and those come last."""
    columns = (Membership.followup_at, Membership.id)
    if key is None or newest_first:
        return past(columns, key, descending=newest_first)
    at, membership_id = key
    if at is None:
        return and_(Membership.followup_at.is_(None), Membership.id > membership_id)
    return or_(past(columns, key), Membership.followup_at.is_(None))


async def follow_up_page(
    session: AsyncSession,
    principal: Principal,
    which: WorkList,
    *,
    assignment_ids: list[int],
    tz: ZoneInfo,
    page: PageRequest[FollowUpKey],
) -> FollowUpPage:
    now = datetime.now(UTC)
    condition, newest_first = _condition(which, principal, now, tz)
    where = and_(
        Membership.tenant_id == principal.tenant_id,
        Membership.assignment_id.in_(assignment_ids),
        condition,
    )
    total = await session.scalar(select(func.count()).select_from(Membership).where(where))
    at, membership_id = ordered([Membership.followup_at, Membership.id], descending=newest_first)
    query = (
        select(Membership, Customer, Assignment.name)
        .join(Customer, Customer.id == Membership.customer_id)
        .join(Assignment, Assignment.id == Membership.assignment_id)
        .where(where, _past(page.after, newest_first))
        .order_by(at.nulls_last(), membership_id)
        .limit(page.fetch)
    )
    rows = (await session.execute(query)).all()
    return page.answer(
        FollowUpPage,
        rows,
        key=lambda row: (row[0].followup_at, row[0].id),
        item=lambda row: FollowUpRow(
            customer_id=row[1].id,
            customer_name=row[1].display_name,
            assignment_id=row[0].assignment_id,
            assignment_name=row[2],
            segment_id=row[0].segment_id,
            state=row[0].state,
            followup_at=row[0].followup_at,
            followup_kind=row[0].followup_kind or "",
            followup_owner_id=row[0].followup_owner_id,
        ),
        name=which,
        total=total or 0,
    )
