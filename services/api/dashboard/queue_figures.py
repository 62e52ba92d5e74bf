"""An assignment's queue by state: Redis for where customers wait now, PostgreSQL for what
only the database knows (follow-ups by due time, corrections, time zones).

Follow-ups: *due now* from their time until FOLLOWUP_GRACE after it (handled then, they
count as kept), *overdue* past that (they will count as passed), *later today* until the end
of the assignment's local day.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.cache import AssignmentConfig
from services.api.assignments.schemas import QueueCounts
from shared.calling.zones import zone_key
from shared.flows import StateKind
from shared.infra.timeutil import as_utc
from shared.membership.followups import FOLLOWUP_GRACE
from shared.models import (
    CORRECTION_STATE,
    AttemptLimitAction,
    Customer,
    FollowUpKind,
    Membership,
)


@dataclass(frozen=True, slots=True)
class FollowUps:
    due_now: int = 0
    later_today: int = 0
    overdue: int = 0


@dataclass(frozen=True, slots=True)
class DatabaseFigures:
    shared: FollowUps
    personal: FollowUps
    in_correction: int
    # The first follow-up still to come today, if any.
    next_followup_at: datetime | None


@dataclass(frozen=True, slots=True)
class QueueFigures:
    counts: QueueCounts  # Redis: free, cooling down, follow-ups waiting, limit, blocked, held
    database: DatabaseFigures
    outside_hours: int

    @property
    def servable_now(self) -> int:
        """Customers any agent's /next could be handed now (personal follow-ups go to their
        owners only)."""
        free_now = max(0, self.counts.free - self.outside_hours)
        return free_now + self.database.shared.due_now + self.database.shared.overdue

    @property
    def personal_due(self) -> int:
        return self.database.personal.due_now + self.database.personal.overdue


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def end_of_local_day(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(local, time.min, tz).astimezone(UTC)


def _bucket(now: datetime, end_of_day: datetime) -> ColumnElement[str]:
    at = Membership.followup_at
    return case(
        (at < now - FOLLOWUP_GRACE, "overdue"),
        (at <= now, "due_now"),
        (at < end_of_day, "later_today"),
        else_="later",
    )


async def database_figures(
    session: AsyncSession, assignment_id: int, *, tz: ZoneInfo, now: datetime
) -> DatabaseFigures:
    end_of_day = end_of_local_day(now, tz)
    inner = (
        select(
            Membership.followup_kind.label("kind"),
            _bucket(now, end_of_day).label("bucket"),
            Membership.followup_at.label("at"),
        )
        .where(Membership.assignment_id == assignment_id, Membership.followup_at.is_not(None))
        .subquery()
    )
    # Grouped over a subquery: PostgreSQL would not match the CASE with its own bound
    # parameters to the same CASE repeated in GROUP BY.
    rows = await session.execute(
        select(inner.c.kind, inner.c.bucket, func.count(), func.min(inner.c.at)).group_by(
            inner.c.kind, inner.c.bucket
        )
    )
    counts: dict[tuple[str, str], int] = {}
    next_at: datetime | None = None
    for kind, bucket, count, first in rows:
        counts[(kind, bucket)] = int(count)
        if bucket == "later_today" and first is not None:
            next_at = min(as_utc(first), next_at) if next_at else as_utc(first)
    in_correction = await session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.assignment_id == assignment_id, Membership.state == CORRECTION_STATE)
    )

    def of(kind: FollowUpKind) -> FollowUps:
        return FollowUps(
            due_now=counts.get((kind.value, "due_now"), 0),
            later_today=counts.get((kind.value, "later_today"), 0),
            overdue=counts.get((kind.value, "overdue"), 0),
        )

    return DatabaseFigures(
        shared=of(FollowUpKind.shared),
        personal=of(FollowUpKind.personal),
        in_correction=in_correction or 0,
        next_followup_at=next_at,
    )


async def outside_hours(session: AsyncSession, config: AssignmentConfig, now: datetime) -> int:
    """Free customers (no follow-up, not cooling down, not stopped at the attempt limit)
    whose zone is outside the assignment's calling rules now (rule 12): they wait, they are
    not lost. Blocked ones are counted as blocked and here as well."""
    a = config.assignment
    if config.calling is None:
        return 0
    free_states = [s.key for s in config.flow.states if s.kind == StateKind.free]
    # A customer's zone depends on its time zone, country and number's calling code: the
    # first four characters of an E.164 number hold the code (shared.calling.zones).
    query = (
        select(
            Customer.time_zone.label("tz"),
            Customer.country.label("country"),
            func.substr(Customer.phone_1, 1, 4).label("prefix"),
        )
        .select_from(Membership)
        .join(Customer, Customer.id == Membership.customer_id)
        .where(
            Membership.assignment_id == a.id,
            Membership.state.in_(free_states),
            Membership.followup_at.is_(None),
        )
    )
    if a.cooldown_seconds:
        cooled = now - timedelta(seconds=a.cooldown_seconds)
        query = query.where(
            (Membership.last_attempt_at.is_(None)) | (Membership.last_attempt_at <= cooled)
        )
    if a.attempt_limit is not None and a.attempt_limit_action == AttemptLimitAction.stop:
        query = query.where(Membership.attempts < a.attempt_limit)
    inner = query.subquery()
    groups = await session.execute(
        select(inner.c.tz, inner.c.country, inner.c.prefix, func.count()).group_by(
            inner.c.tz, inner.c.country, inner.c.prefix
        )
    )
    outside = 0
    for tz, country, prefix, count in groups:
        zone = zone_key(
            time_zone=tz,
            country=country,
            phones=(prefix,),
            default_time_zone=a.default_time_zone,
            default_country=config.region,
        )
        if not config.calling.status(zone, now).open:
            outside += int(count)
    return outside
