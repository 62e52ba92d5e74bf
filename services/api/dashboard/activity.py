"""Outcomes and attempts of an assignment: the last 15 minutes, today per agent, today by hour.

Today's figures are the activity report's (services/api/reports/reporting.py: re-attributed, without
excluded or corrected events) for the assignment's local day, so the dashboard and the CSV
agree. The last 15 minutes count outcomes as they were registered (by `created_at`): a live
view of the floor, not a report.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, cast, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.reports.reporting import ActivityQuery, activity, counts_in_reports, utc_range
from shared.models import Event, EventKind

RECENT = timedelta(minutes=15)
HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class AgentDay:
    outcomes: int = 0
    attempts: int = 0
    sales: int = 0


@dataclass(frozen=True, slots=True)
class OutcomeFigures:
    last_15_min: dict[str, int]
    today: dict[str, int]
    per_agent: dict[int, AgentDay] = field(default_factory=dict)


def _outcome_filter(tenant_id: int, assignment_id: int) -> list[Any]:
    return [
        Event.tenant_id == tenant_id,
        Event.assignment_id == assignment_id,
        Event.kind == EventKind.outcome.value,
        counts_in_reports(),
    ]


async def outcome_figures(
    session: AsyncSession, *, tenant_id: int, assignment_id: int, tz: ZoneInfo, now: datetime
) -> OutcomeFigures:
    recent = await session.execute(
        select(Event.code, func.count())
        .where(*_outcome_filter(tenant_id, assignment_id), Event.created_at >= now - RECENT)
        .group_by(Event.code)
    )
    day = now.astimezone(tz).date()
    query = ActivityQuery(
        tenant_id=tenant_id,
        first_day=day,
        last_day=day,
        tz=tz,
        group_by=("user",),
        assignment_id=assignment_id,
    )
    rows = await activity(session, query, team_of={})
    today: Counter[str] = Counter()
    per_agent: dict[int, AgentDay] = {}
    for (user_id,), counts in rows.items():
        today.update(counts.outcomes)
        if user_id is not None:
            per_agent[int(user_id)] = AgentDay(
                outcomes=sum(counts.outcomes.values()),
                attempts=sum(counts.attempts.values()),
                sales=counts.sales,
            )
    return OutcomeFigures(
        last_15_min={str(code or ""): int(n) for code, n in recent},
        today=dict(sorted(today.items())),
        per_agent=per_agent,
    )


async def outcomes_by_hour(
    session: AsyncSession, *, tenant_id: int, assignment_id: int, tz: ZoneInfo, now: datetime
) -> tuple[datetime, dict[tuple[int, str], int]]:
    """The start of today (local) and today's outcomes per (hour since then, code), as
    registered. Hours count from the local midnight, so half-hour zones bin right too."""
    day = now.astimezone(tz).date()
    start, end = utc_range(day, day, tz)
    seconds: Any = extract("epoch", Event.created_at)
    if session.get_bind().dialect.name != "sqlite":
        # PostgreSQL's epoch has a fraction, and a cast would round it into the next second.
        seconds = func.floor(seconds)
    since_start = cast(seconds, BigInteger) - int(start.timestamp())
    inner = (
        select((since_start // HOUR_S).label("hour"), Event.code.label("code"))
        .where(
            *_outcome_filter(tenant_id, assignment_id),
            Event.created_at >= start,
            Event.created_at < end,
        )
        .subquery()
    )
    rows = await session.execute(
        select(inner.c.hour, inner.c.code, func.count()).group_by(inner.c.hour, inner.c.code)
    )
    return start, {(int(hour), str(code or "")): int(count) for hour, code, count in rows}
