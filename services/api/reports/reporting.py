"""Activity reports (rule 29): outcomes, attempts, sales, products and follow-ups, counted per
assignment, team, user and local day, honouring report flags and corrections (rules 26-27).

The database groups the counts; Python only folds the groups into report rows. Local days
are not portable SQL (PostgreSQL and SQLite both run this), so Python works out the UTC
offsets in force during the range (a year has at most a few daylight-saving switches) and
the database numbers each event's day as (epoch seconds + offset) // 86400: exact in every
zone, and as few groups as there are days.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Event, EventKind, Product, ProductStatus

GROUP_KEYS = ("assignment", "team", "user", "day")
DAY_S = 86_400
# Offsets never change twice within this long, so probing at this step finds every switch.
OFFSET_PROBE_S = 6 * 3600
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Every kind an activity report reads; other events (edits, moves...) never count.
COUNTED_KINDS = (EventKind.outcome.value, EventKind.attempt.value, EventKind.followup_fell_back)

GroupKey = tuple[Any, ...]


def counted_user() -> ColumnElement[int]:
    """Who an event counts for: the re-attributed user, else its author; a follow-up that fell
    back to shared has no author and counts as passed for its former owner."""
    # A CASE, so that only those few events have their JSON parsed.
    return case(
        (
            Event.kind == EventKind.followup_fell_back.value,
            func.coalesce(Event.report_user_id, Event.data["former_owner_id"].as_integer()),
        ),
        else_=func.coalesce(Event.report_user_id, Event.user_id),
    )


def counted_at() -> ColumnElement[datetime]:
    return func.coalesce(Event.report_at, Event.created_at)


def counts_in_reports() -> ColumnElement[bool]:
    """Excluded events and events replaced by a correction leave the reports (rules 26b, 27)."""
    return and_(Event.excluded_from_reports.is_(False), Event.corrected_by_event_id.is_(None))


def utc_range(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in `tz`, as UTC instants."""
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


@dataclass
class Activity:
    """What one report row counts."""

    outcomes: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    sales: int = 0
    sold_units: int = 0
    products_offered: int = 0
    money: Counter[str] = field(default_factory=Counter)
    followups_kept: int = 0
    followups_passed: int = 0

    def add(self, other: "Activity") -> None:
        self.outcomes.update(other.outcomes)
        self.attempts.update(other.attempts)
        self.sales += other.sales
        self.sold_units += other.sold_units
        self.products_offered += other.products_offered
        self.money.update(other.money)
        self.followups_kept += other.followups_kept
        self.followups_passed += other.followups_passed


@dataclass(frozen=True)
class ActivityQuery:
    tenant_id: int
    first_day: date
    last_day: date
    tz: ZoneInfo
    group_by: tuple[str, ...]
    assignment_id: int | None = None
    # Only these counted users (a user or a team filter); None means everyone.
    user_ids: frozenset[int] | None = None


class _Grouper:
    """Turns (counted user, assignment, day number) into the row key the caller grouped by."""

    def __init__(self, query: ActivityQuery, team_of: Mapping[int, str]) -> None:
        self._group_by = query.group_by
        self._team_of = team_of

    def key(self, user_id: int | None, assignment_id: int | None, day: int | None) -> GroupKey:
        values: list[Any] = []
        for name in self._group_by:
            if name == "assignment":
                values.append(assignment_id)
            elif name == "team":
                values.append(self._team_of.get(user_id, "") if user_id is not None else "")
            elif name == "user":
                values.append(user_id)
            else:
                values.append(date.fromordinal(_EPOCH_ORDINAL + (day or 0)).isoformat())
        return tuple(values)


def offsets(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """(from epoch second, UTC offset in seconds) for each offset `tz` uses in [start, end)."""

    def offset(second: int) -> int:
        delta = datetime.fromtimestamp(second, tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    first, last = int(start.timestamp()), int(end.timestamp())
    found = [(first, offset(first))]
    probe = first
    while probe < last:
        following = min(probe + OFFSET_PROBE_S, last)
        if offset(following) != found[-1][1]:
            before, after = probe, following  # bisect to the switch's first second
            while after - before > 1:
                middle = (before + after) // 2
                if offset(middle) == found[-1][1]:
                    before = middle
                else:
                    after = middle
            found.append((after, offset(after)))
        probe = following
    return found


def _day_number(
    moment: ColumnElement[datetime], query: ActivityQuery, dialect: str
) -> ColumnElement[int]:
    """Days since 1970-01-01 in the query's zone, for an instant."""
    seconds: ColumnElement[Any] = extract("epoch", moment)
    if dialect != "sqlite":
        # PostgreSQL's epoch has a fraction, and a cast would round it into the next second.
        seconds = func.floor(seconds)
    seconds = cast(seconds, BigInteger)
    shifts = offsets(query.tz, *utc_range(query.first_day, query.last_day, query.tz))
    offset: ColumnElement[Any] = literal(shifts[-1][1])
    if len(shifts) > 1:
        whens = [(seconds < shifts[i + 1][0], off) for i, (_, off) in enumerate(shifts[:-1])]
        offset = case(*whens, else_=shifts[-1][1])
    return (seconds + offset) // DAY_S


def _in_scope(query: ActivityQuery, user: ColumnElement[int], at: ColumnElement[datetime]) -> Any:
    start, end = utc_range(query.first_day, query.last_day, query.tz)
    conditions = [at >= start, at < end]
    if query.user_ids is not None:
        conditions.append(user.in_(sorted(query.user_ids)))
    return and_(*conditions)


def _grouped(inner: Select[Any], keys: int) -> Select[Any]:
    """Group the first `keys` columns of `inner`; count it and sum its other columns.

    A subquery, so that GROUP BY names plain columns: PostgreSQL would not match a select
    expression with its own bound parameters (JSON paths, day offsets) to the same
    expression repeated in GROUP BY.
    """
    columns = list(inner.subquery().c)
    group = columns[:keys]
    sums = [func.coalesce(func.sum(c), 0) for c in columns[keys:]]
    return select(*group, func.count(), *sums).group_by(*group)


async def _event_groups(session: AsyncSession, query: ActivityQuery, dialect: str) -> list[Any]:
    user, at = counted_user(), counted_at()
    kept = Event.data[("followup_handled", "kept")].as_boolean()
    columns: list[Any] = [user, Event.assignment_id, Event.kind, Event.code, kept]
    if "day" in query.group_by:
        columns.append(_day_number(at, query, dialect))
    inner = select(*(c.label(f"k{i}") for i, c in enumerate(columns))).where(
        Event.tenant_id == query.tenant_id,
        Event.kind.in_(COUNTED_KINDS),
        counts_in_reports(),
        _in_scope(query, user, at),
    )
    if query.assignment_id is not None:
        inner = inner.where(Event.assignment_id == query.assignment_id)
    return list(await session.execute(_grouped(inner, len(columns))))


async def _product_groups(session: AsyncSession, query: ActivityQuery, dialect: str) -> list[Any]:
    """Products count with their event's attribution and leave with it; products registered
    without an event count for their own user and time."""
    user = func.coalesce(Event.report_user_id, Event.user_id, Product.user_id)
    at = func.coalesce(Event.report_at, Event.created_at, Product.created_at)
    assignment = func.coalesce(Product.assignment_id, Event.assignment_id)
    columns: list[Any] = [user, assignment, Product.status, Product.currency]
    if "day" in query.group_by:
        columns.append(_day_number(at, query, dialect))
    inner = (
        select(
            *(c.label(f"k{i}") for i, c in enumerate(columns)),
            Product.quantity.label("units"),
            Product.amount_minor.label("amount"),
        )
        .outerjoin(Event, Event.id == Product.event_id)
        .where(
            Product.tenant_id == query.tenant_id,
            or_(Event.id.is_(None), counts_in_reports()),
            _in_scope(query, user, at),
        )
    )
    if query.assignment_id is not None:
        inner = inner.where(assignment == query.assignment_id)
    return list(await session.execute(_grouped(inner, len(columns))))


async def activity(
    session: AsyncSession, query: ActivityQuery, *, team_of: Mapping[int, str]
) -> dict[GroupKey, Activity]:
    """Report rows by the grouped values (in `query.group_by` order); `team_of` maps user ids
    to their team."""
    if query.user_ids is not None and not query.user_ids:
        return {}
    dialect = session.get_bind().dialect.name
    grouper = _Grouper(query, team_of)
    rows: dict[GroupKey, Activity] = {}

    def row(user_id: int | None, assignment_id: int | None, day: int | None) -> Activity:
        return rows.setdefault(grouper.key(user_id, assignment_id, day), Activity())

    for user_id, assignment_id, kind, code, kept, *rest in await _event_groups(
        session, query, dialect
    ):
        day, count = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
        target = row(user_id, assignment_id, day)
        if kind == EventKind.outcome:
            target.outcomes[code or ""] += count
        elif kind == EventKind.attempt:
            target.attempts[code or ""] += count
        if kind == EventKind.followup_fell_back or kept is False:
            target.followups_passed += count
        elif kept is True:
            target.followups_kept += count

    for user_id, assignment_id, status, currency, *rest in await _product_groups(
        session, query, dialect
    ):
        day = rest[0] if len(rest) == 4 else None
        count, units, amount = rest[-3:]
        target = row(user_id, assignment_id, day)
        if status == ProductStatus.sold:
            target.sales += count
            target.sold_units += int(units)
            target.money[currency] += int(amount)
        else:
            target.products_offered += count
    return rows
