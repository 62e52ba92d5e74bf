"""Agents' states in PostgreSQL: each change one locked read and one write, and its history."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.pagination import IdKey, Keyset, PageRequest
from shared.dialer.states import Actor, check
from shared.errors import NotFound, Unprocessable
from shared.models import AgentState, AgentStateChange, AgentStateRow, User
from shared.webhooks import outbox

AGENT_STATES: Keyset[IdKey] = Keyset("agent_states", IdKey)


@dataclass(frozen=True, slots=True)
class Changed:
    """An agent's state after a change, and what it was before."""

    tenant_id: int
    user_id: int
    state: AgentState
    assignment_id: int | None
    reason: str
    customer_id: int | None
    dial_id: str | None
    since: datetime
    version: int
    previous: AgentState
    previous_assignment: int | None
    previous_since: datetime | None


async def _locked(session: AsyncSession, tenant_id: int, user_id: int) -> AgentStateRow | None:
    row = await session.scalar(
        select(AgentStateRow)
        .where(AgentStateRow.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is not None and row.tenant_id != tenant_id:
        raise NotFound(f"user {user_id} not found")
    return row


async def agent_in_tenant(session: AsyncSession, tenant_id: int, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id or not user.active:
        raise NotFound(f"user {user_id} not found")
    return user


async def change(
    session: AsyncSession,
    *,
    tenant_id: int,
    user_id: int,
    to: AgentState,
    by: Actor,
    changed_by: int,
    now: datetime,
    assignment_id: int | None = None,
    reason: str = "",
    customer_id: int | None = None,
    dial_id: str | None = None,
    expect_assignment: int | None = None,
) -> Changed:
    """Change one agent's state if the rules allow it; the caller commits.

    `assignment_id` None keeps the one the agent works; `expect_assignment` refuses an agent
    working another one (a dialer bridges only to agents of the call's assignment).
    """
    row = await _locked(session, tenant_id, user_id)
    current = AgentState(row.state) if row is not None else AgentState.signed_off
    check(current, to, by=by, reason=reason)
    working = assignment_id if assignment_id is not None else (row.assignment_id if row else None)
    if to != AgentState.signed_off and working is None:
        raise Unprocessable(
            "say which assignment you work: assignment_id", code="assignment_required"
        )
    if expect_assignment is not None and (row is None or row.assignment_id != expect_assignment):
        raise Unprocessable(
            f"user {user_id} does not work assignment {expect_assignment}", code="agent_not_here"
        )
    previous_assignment = row.assignment_id if row is not None else None
    previous_since = row.since if row is not None else None
    if row is None:
        row = AgentStateRow(user_id=user_id, tenant_id=tenant_id, version=0)
        session.add(row)
    keeps_call = to in (AgentState.on_call, AgentState.wrap_up)
    row.state = to.value
    row.assignment_id = None if to == AgentState.signed_off else working
    row.reason = reason if to == AgentState.paused else ""
    row.customer_id = (
        customer_id if customer_id is not None else (row.customer_id if keeps_call else None)
    )
    row.dial_id = dial_id if dial_id is not None else (row.dial_id if keeps_call else None)
    row.since = now
    row.version = (row.version or 0) + 1
    session.add(
        AgentStateChange(
            tenant_id=tenant_id,
            user_id=user_id,
            state=to.value,
            assignment_id=row.assignment_id,
            reason=row.reason,
            changed_by=changed_by,
            at=now,
        )
    )
    # The integrations hear it from the same transaction (the webhooks' outbox, decision 037).
    await outbox.enqueue_agent_state(
        session,
        tenant_id,
        user_id,
        {
            "state": to.value,
            "previous": current.value,
            "assignment_id": row.assignment_id,
            "reason": row.reason,
        },
        at=now,
    )
    await session.flush()
    return Changed(
        tenant_id=tenant_id,
        user_id=user_id,
        state=to,
        assignment_id=row.assignment_id,
        reason=row.reason,
        customer_id=row.customer_id,
        dial_id=row.dial_id,
        since=now,
        version=row.version,
        previous=current,
        previous_assignment=previous_assignment,
        previous_since=previous_since,
    )


async def longest_ready(session: AsyncSession, assignment_id: int) -> int | None:
    """The agent of the assignment ready the longest, not being changed by someone else now."""
    found: int | None = await session.scalar(
        select(AgentStateRow.user_id)
        .where(
            AgentStateRow.assignment_id == assignment_id,
            AgentStateRow.state == AgentState.ready.value,
        )
        .order_by(AgentStateRow.since, AgentStateRow.user_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return found


async def current(session: AsyncSession, tenant_id: int, user_id: int) -> AgentStateRow | None:
    row = await session.get(AgentStateRow, user_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def listed(
    session: AsyncSession,
    tenant_id: int,
    *,
    assignment_id: int | None,
    state: AgentState | None,
    page: PageRequest[IdKey],
) -> list[tuple[AgentStateRow, str]]:
    query = select(AgentStateRow, User.name).join(User, User.id == AgentStateRow.user_id)
    query = query.where(AgentStateRow.tenant_id == tenant_id)
    if assignment_id is not None:
        query = query.where(AgentStateRow.assignment_id == assignment_id)
    if state is not None:
        query = query.where(AgentStateRow.state == state.value)
    rows = await session.execute(page.window(query, AgentStateRow.user_id))
    return [(row, name) for row, name in rows]
