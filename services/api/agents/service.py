"""Changing agents' states (rule 35): the database first, then the Redis copy pacing reads,
then what integrations hear."""

from services.api.agents import store
from services.api.agents.schemas import AgentStateOut, StateChange
from services.api.auth.cache import Principal
from services.api.resources import Resources
from services.api.work.common import config_for
from services.queue import AssignmentQueue, DialFloor
from shared.dialer.states import SEATED, Actor
from shared.models import AgentState, AgentStateRow


async def set_own(res: Resources, principal: Principal, body: StateChange) -> AgentStateOut:
    if body.assignment_id is not None:
        await config_for(res, body.assignment_id, principal)  # 404 elsewhere, 403 hidden
    async with res.session() as session:
        changed = await store.change(
            session,
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            to=body.state,
            by=Actor.agent,
            changed_by=principal.user_id,
            now=res.clock(),
            assignment_id=body.assignment_id,
            reason=body.reason,
        )
    await published(res, changed)
    return out_of(changed, principal.name)


async def set_by_dialer(
    res: Resources, principal: Principal, user_id: int, state: AgentState
) -> AgentStateOut:
    async with res.session() as session:
        agent = await store.agent_in_tenant(session, principal.tenant_id, user_id)
        changed = await store.change(
            session,
            tenant_id=principal.tenant_id,
            user_id=user_id,
            to=state,
            by=Actor.dialer,
            changed_by=principal.user_id,
            now=res.clock(),
        )
    await published(res, changed)
    return out_of(changed, agent.name)


async def own(res: Resources, principal: Principal) -> AgentStateOut:
    async with res.sessionmaker() as session:
        row = await store.current(session, principal.tenant_id, principal.user_id)
    return row_out(row, principal.user_id, principal.name)


async def published(res: Resources, changed: store.Changed) -> None:
    """After commit: the copy in Redis (where the agent works now, and not where it worked),
    and the handling times pacing learns from (the webhook was written with the change)."""
    at = changed.since
    at_ms = int(at.timestamp() * 1000)
    if changed.previous_assignment is not None and (
        changed.previous_assignment != changed.assignment_id
    ):
        old = DialFloor(AssignmentQueue(res.redis, changed.previous_assignment))
        await old.unseat(changed.user_id, version=changed.version)
    if changed.assignment_id is not None and changed.state in SEATED:
        floor = DialFloor(AssignmentQueue(res.redis, changed.assignment_id))
        await floor.seat(
            changed.user_id, state=changed.state.value, since_ms=at_ms, version=changed.version
        )
        counts = _handling(changed)
        if counts:
            await floor.add_counts(counts, at_ms=at_ms)


def _handling(changed: store.Changed) -> dict[str, int]:
    """Talk ends with on call -> wrap-up; wrap-up ends with the next state."""
    if changed.previous_since is None or changed.previous == changed.state:
        return {}
    spent = int((changed.since - changed.previous_since).total_seconds() * 1000)
    if changed.previous == AgentState.on_call:
        return {"talk_ms": spent, "talks": 1}
    if changed.previous == AgentState.wrap_up:
        return {"wrap_ms": spent, "wraps": 1}
    return {}


def out_of(changed: store.Changed, name: str) -> AgentStateOut:
    return AgentStateOut(
        user_id=changed.user_id,
        name=name,
        state=changed.state,
        assignment_id=changed.assignment_id,
        reason=changed.reason,
        customer_id=changed.customer_id,
        dial_id=changed.dial_id,
        since=changed.since,
    )


def row_out(row: AgentStateRow | None, user_id: int, name: str) -> AgentStateOut:
    if row is None:
        return AgentStateOut(
            user_id=user_id,
            name=name,
            state=AgentState.signed_off,
            assignment_id=None,
            reason="",
            customer_id=None,
            dial_id=None,
            since=None,
        )
    return AgentStateOut(
        user_id=row.user_id,
        name=name,
        state=AgentState(row.state),
        assignment_id=row.assignment_id,
        reason=row.reason,
        customer_id=row.customer_id,
        dial_id=row.dial_id,
        since=row.since,
    )
