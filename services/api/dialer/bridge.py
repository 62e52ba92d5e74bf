"""What an answered dial and an inbound call share: the agent goes on the call (at most one),
and gets the customer's card, leased to it, on its live stream."""

from datetime import datetime
from typing import Any

from services.api.agents import store as agent_store
from services.api.assignments.cache import AssignmentConfig
from services.api.auth.cache import Principal
from services.api.resources import Resources
from services.api.work.cards import card_out
from services.api.work.common import lease_id_of
from services.queue import AssignmentQueue, Claimed, DialFloor, streams
from services.queue.broadcast import publish_eligible
from services.queue.streams import EventType
from shared.dialer.states import Actor
from shared.models import AgentState


async def on_call(
    session: Any,
    principal: Principal,
    *,
    agent_id: int,
    customer_id: int,
    dial_id: str,
    now: datetime,
    expect_assignment: int | None = None,
) -> agent_store.Changed:
    """The agent takes the call, if ready or reserved for one (else 409: one call each)."""
    await agent_store.agent_in_tenant(session, principal.tenant_id, agent_id)
    return await agent_store.change(
        session,
        tenant_id=principal.tenant_id,
        user_id=agent_id,
        to=AgentState.on_call,
        by=Actor.dialer,
        changed_by=principal.user_id,
        now=now,
        customer_id=customer_id,
        dial_id=dial_id,
        expect_assignment=expect_assignment,
    )


async def show_card(
    res: Resources,
    principal: Principal,
    config: AssignmentConfig,
    *,
    agent_id: int,
    claimed: Claimed,
    dial_id: str,
    source: str,
) -> None:
    """The agent now works this assignment (what it held elsewhere goes home), and its live
    stream carries the card with the agent's own lease."""
    assignment_id = config.assignment.id
    previous = await DialFloor(AssignmentQueue(res.redis, assignment_id)).work_in(agent_id)
    if previous is not None:
        left = await AssignmentQueue(res.redis, previous).release_agent(agent_id)
        if left is not None:
            await publish_eligible(res.redis, previous)
    card = await res.store.read_card(claimed.customer_id, tenant_id=principal.tenant_id)
    if card is None:
        return
    membership, customer = card
    shown = card_out(
        membership,
        customer,
        config,
        source=source,
        lease_token=lease_id_of(assignment_id, claimed.lease_token),
        lease_expires_ms=claimed.lease_expires_ms,
    )
    await streams.tell_user(
        res.redis,
        agent_id,
        EventType.call_bridged,
        {"dial_id": dial_id, "card": shown.model_dump(mode="json")},
        window=res.settings.stream_window,
    )
