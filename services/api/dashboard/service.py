"""What a supervisor's dashboard shows: their tenant's assignments open to them, each with its
queue by state, leases, outcomes and why it is empty; the agents at work; one assignment's day.

Reads only: existing services and the queue's public methods (issue 13); the memo shares each
figure between the viewers of one API process (memo.py gives the ages).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.api.assignments.cache import AssignmentConfig
from services.api.assignments.service import queue_counts
from services.api.auth.cache import Principal
from services.api.customer_details.access import sees_every_assignment
from services.api.dashboard import memo
from services.api.dashboard.activity import AgentDay, OutcomeFigures, outcome_figures
from services.api.dashboard.agents import AgentNow, State, agents_now
from services.api.dashboard.queue_figures import (
    DatabaseFigures,
    QueueFigures,
    database_figures,
    outside_hours,
    zone,
)
from services.api.dashboard.words import why_empty
from services.api.errors import NotFound
from services.api.resources import Resources
from services.api.visibility import visible_to
from shared.models import Assignment, User


@dataclass(frozen=True, slots=True)
class AssignmentView:
    id: int
    name: str
    tz: ZoneInfo
    queue: QueueFigures
    outcomes: OutcomeFigures
    why_empty: str


@dataclass(frozen=True, slots=True)
class AgentRow:
    user_id: int
    name: str
    assignment_id: int
    assignment_name: str
    state: State
    customer_id: int | None
    since_ms: int | None
    today: AgentDay


@dataclass(frozen=True, slots=True)
class Overview:
    assignments: list[AssignmentView]
    agents: list[AgentRow]
    at: datetime


def _memo(res: Resources) -> memo.Memo:
    return res.dashboard


async def visible_assignments(res: Resources, principal: Principal) -> list[Assignment]:
    """The tenant's active assignments open to the supervisor now; extended handling (and
    administrators) see every one, as they work across assignments (DESIGN 3.8)."""

    async def load() -> list[Assignment]:
        async with res.sessionmaker() as session:
            found = await session.scalars(
                select(Assignment)
                .where(Assignment.tenant_id == principal.tenant_id, Assignment.active.is_(True))
                .order_by(Assignment.id)
            )
            rows = list(found)
        if sees_every_assignment(principal):
            return rows
        now = datetime.now(UTC)
        return [a for a in rows if visible_to(a, principal.user_id, now)]

    key = ("assignments", principal.tenant_id, principal.user_id)
    return await _memo(res).get(key, memo.DATABASE_S, load)


async def visible_assignment(
    res: Resources, principal: Principal, assignment_id: int
) -> Assignment:
    for a in await visible_assignments(res, principal):
        if a.id == assignment_id:
            return a
    raise NotFound(f"assignment {assignment_id} not found")


async def _config(res: Resources, assignment: Assignment) -> AssignmentConfig:
    config = await res.assignments.get(
        assignment.id,
        tenant_id=assignment.tenant_id,
        sessionmaker=res.sessionmaker,
        redis=res.redis,
    )
    if config is None:  # deleted since it was listed: nothing to show
        raise NotFound(f"assignment {assignment.id} not found")
    return config


async def assignment_view(res: Resources, assignment: Assignment) -> AssignmentView:
    now = datetime.now(UTC)
    m, a = _memo(res), assignment.id
    tz = zone(assignment.default_time_zone)

    async def counted() -> QueueFigures:
        counts = await m.get(("queue", a), memo.LIVE_S, lambda: queue_counts(res.redis, a))
        figures = await m.get(("db", a), memo.DATABASE_S, from_database)
        outside = await m.get(("outside", a), memo.SLOW_S, outside_now)
        return QueueFigures(counts=counts, database=figures, outside_hours=outside)

    async def from_database() -> DatabaseFigures:
        async with res.sessionmaker() as session:
            return await database_figures(session, a, tz=tz, now=now)

    async def outside_now() -> int:
        config = await _config(res, assignment)
        async with res.sessionmaker() as session:
            return await outside_hours(session, config, now)

    async def outcomes() -> OutcomeFigures:
        async with res.sessionmaker() as session:
            return await outcome_figures(
                session, tenant_id=assignment.tenant_id, assignment_id=a, tz=tz, now=now
            )

    queue = await counted()
    figures = await m.get(("outcomes", a), memo.DATABASE_S, outcomes)
    return AssignmentView(a, assignment.name, tz, queue, figures, why_empty(queue, tz))


async def _names(res: Resources, tenant_id: int, user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}

    async def load() -> dict[int, str]:
        async with res.sessionmaker() as session:
            rows = await session.execute(
                select(User.id, User.name).where(
                    User.tenant_id == tenant_id, User.id.in_(sorted(user_ids))
                )
            )
            return {int(uid): str(name) for uid, name in rows}

    key = ("names", tenant_id, tuple(sorted(user_ids)))
    return await _memo(res).get(key, memo.DATABASE_S, load)


async def agent_rows(
    res: Resources, principal: Principal, views: Sequence[AssignmentView]
) -> list[AgentRow]:
    by_id = {v.id: v for v in views}
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    ids = tuple(by_id)

    async def load() -> list[AgentNow]:
        return await agents_now(res.redis, ids, now_ms=now_ms)

    found = list(await _memo(res).get(("agents", ids), memo.LIVE_S, load))
    # Who worked today but asked for nothing in the last hour: signed off, still counted.
    at_work = {a.user_id for a in found}
    for view in views:
        for user_id in view.outcomes.per_agent:
            if user_id not in at_work:
                at_work.add(user_id)
                found.append(AgentNow(user_id, view.id, "off", None, None))
    # Only the tenant's users: an id in Redis that is not one of them is never shown.
    names = await _names(res, principal.tenant_id, [a.user_id for a in found])
    rows = []
    for agent in found:
        if agent.user_id not in names:
            continue
        view = by_id[agent.assignment_id]
        rows.append(
            AgentRow(
                user_id=agent.user_id,
                name=names[agent.user_id],
                assignment_id=agent.assignment_id,
                assignment_name=view.name,
                state=agent.state,
                customer_id=agent.customer_id,
                since_ms=agent.since_ms,
                today=_day_total(agent.user_id, views),
            )
        )
    return sorted(rows, key=lambda r: (r.name.casefold(), r.user_id))


def _day_total(user_id: int, views: Sequence[AssignmentView]) -> AgentDay:
    days = [v.outcomes.per_agent[user_id] for v in views if user_id in v.outcomes.per_agent]
    return AgentDay(
        outcomes=sum(d.outcomes for d in days),
        attempts=sum(d.attempts for d in days),
        sales=sum(d.sales for d in days),
    )


async def overview(res: Resources, principal: Principal) -> Overview:
    views = [await assignment_view(res, a) for a in await visible_assignments(res, principal)]
    agents = await agent_rows(res, principal, views)
    return Overview(assignments=views, agents=agents, at=datetime.now(UTC))
