"""A dialer reports a dial's result (rule 36), once per dial id.

The database is written first, in one transaction: the dial (unique by its id: a second
report of it finds the first), its event, and the membership (a system attempt, an abandoned
call's call-back) or the agent's state (answered). Then Redis: the reservation ends, and the
customer goes where the database says, or its lease moves to the agent, who hears of it on
the live stream. A report repeated after a crash between the two finds the dial and finishes
the Redis step again; both steps are idempotent.
"""

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from services.api.agents import service as agent_service
from services.api.agents import store as agent_store
from services.api.assignments.cache import AssignmentConfig
from services.api.auth.cache import Principal
from services.api.dialer import bridge
from services.api.dialer.ids import parse_dial_id
from services.api.dialer.schemas import DialOut, DialReport, HangupOut
from services.api.errors import Conflict, NotFound
from services.api.resources import Resources
from services.api.work.cards import load_card
from services.api.work.common import config_for
from services.api.work.writes import _servable_now
from services.queue import AssignmentQueue, DialFloor, NotHolder, compute_placement
from services.queue.broadcast import queue_eligible
from shared.dialer.states import Actor
from shared.infra import metrics
from shared.membership import dials
from shared.membership.events import event_of
from shared.membership.record import MembershipRecord, record_of, store_into
from shared.models import AgentState, Customer, Dial, DialResult, Membership
from shared.webhooks import outbox
from shared.webhooks.types import WebhookType


async def report(res: Resources, principal: Principal, dial_id: str, body: DialReport) -> DialOut:
    assignment_id, customer_id, token = parse_dial_id(dial_id)
    # Any mode: a dial started before the assignment went back to preview still ends.
    config = await config_for(res, assignment_id, principal)
    result = DialResult(body.result)
    existing = await _reported(res, principal.tenant_id, dial_id)
    if existing is not None:
        return await _replayed(res, principal, config, existing, body, token)
    queue = AssignmentQueue(res.redis, assignment_id)
    try:
        await queue.renew(
            customer_id,
            user_id=principal.user_id,
            lease_token=token,
            lease_seconds=res.settings.dial_reservation_seconds,
        )
    except NotHolder as exc:
        raise Conflict(
            "this reservation is over (expired, or never made): the customer went back to "
            "its queue; nothing was recorded",
            code="dial_expired",
        ) from exc
    try:
        if result == DialResult.answered:
            dial, agent = await _answered(res, principal, config, customer_id, dial_id, body)
        else:
            dial, agent = (
                await _unanswered(res, principal, config, customer_id, dial_id, body),
                None,
            )
    except IntegrityError:
        # The same dial reported at the same moment by another request: that one counts.
        found = await _reported(res, principal.tenant_id, dial_id)
        if found is None:
            raise
        return await _replayed(res, principal, config, found, body, token)
    except StaleDataError as exc:
        raise Conflict(
            "customer changed while the result was written; nothing was written"
        ) from exc
    metrics.DIAL_RESULTS.labels(result.value).inc()
    await _settle(res, principal, config, dial, token, agent)
    return _out(dial, replayed=False)


async def hangup(res: Resources, principal: Principal, dial_id: str) -> HangupOut:
    """The bridged call ended: its agent goes to wrap-up (if still on this call)."""
    assignment_id, _, _ = parse_dial_id(dial_id)
    await config_for(res, assignment_id, principal)
    async with res.session() as session:
        dial = await session.scalar(
            select(Dial).where(Dial.tenant_id == principal.tenant_id, Dial.dial_id == dial_id)
        )
        if dial is None or dial.agent_id is None:
            raise NotFound(f"no answered dial {dial_id}")
        if dial.ended_at is None:
            dial.ended_at = res.clock()
        row = await agent_store.current(session, principal.tenant_id, dial.agent_id)
        if row is None or row.dial_id != dial_id or row.state != AgentState.on_call.value:
            return HangupOut(dial_id=dial_id, agent_id=None)
        changed = await agent_store.change(
            session,
            tenant_id=principal.tenant_id,
            user_id=dial.agent_id,
            to=AgentState.wrap_up,
            by=Actor.dialer,
            changed_by=principal.user_id,
            now=res.clock(),
        )
    await agent_service.published(res, changed)
    return HangupOut(dial_id=dial_id, agent_id=changed.user_id)


async def _reported(res: Resources, tenant_id: int, dial_id: str) -> Dial | None:
    async with res.sessionmaker() as session:
        found: Dial | None = await session.scalar(
            select(Dial).where(Dial.tenant_id == tenant_id, Dial.dial_id == dial_id)
        )
    return found


async def _replayed(
    res: Resources,
    principal: Principal,
    config: AssignmentConfig,
    dial: Dial,
    body: DialReport,
    token: str,
) -> DialOut:
    """The first report's answer when this one says the same; 409 when it says otherwise."""
    same = dial.result == body.result and (body.agent_id is None or body.agent_id == dial.agent_id)
    if not same:
        raise Conflict(
            f"dial {dial.dial_id} was reported before as {dial.result}; nothing changed",
            code="dial_already_reported",
            result=dial.result,
        )
    # Finish what the first report may not have (its process stopped after the commit).
    await _settle(res, principal, config, dial, token, dial.agent_id, counted=False)
    return _out(dial, replayed=True)


async def _unanswered(
    res: Resources,
    principal: Principal,
    config: AssignmentConfig,
    customer_id: int,
    dial_id: str,
    body: DialReport,
) -> Dial:
    result = DialResult(body.result)
    now = res.clock()
    data: dict[str, object] = {"dial_id": dial_id, "dialer_user_id": principal.user_id}
    if body.ring_seconds is not None:
        data["ring_seconds"] = body.ring_seconds
    async with res.session() as session:
        membership, _ = await _card(session, principal, config, customer_id)
        record = record_of(membership)
        if result == DialResult.abandoned:
            change = dials.abandoned(record, config.flow, now=now, data=data)
        else:
            change = dials.system_attempt(
                record,
                config.flow,
                result,
                now=now,
                cooldown_seconds=config.assignment.cooldown_seconds,
                data=data,
            )
        store_into(membership, change.record)
        return await _recorded(session, principal, change.record, change.event, dial_id, body)


async def _answered(
    res: Resources,
    principal: Principal,
    config: AssignmentConfig,
    customer_id: int,
    dial_id: str,
    body: DialReport,
) -> tuple[Dial, agent_store.Changed]:
    assignment_id = config.assignment.id
    data: dict[str, object] = {"dial_id": dial_id, "dialer_user_id": principal.user_id}
    if body.ring_seconds is not None:
        data["ring_seconds"] = body.ring_seconds
    async with res.session() as session:
        agent_id = body.agent_id or await agent_store.longest_ready(session, assignment_id)
        if agent_id is None:
            raise Conflict("no agent is ready: report the call as abandoned", code="no_agent_ready")
        changed = await bridge.on_call(
            session,
            principal,
            agent_id=agent_id,
            customer_id=customer_id,
            dial_id=dial_id,
            now=res.clock(),
            expect_assignment=assignment_id,
        )
        membership, _ = await _card(session, principal, config, customer_id)
        record = record_of(membership)
        event = dials.answered(record, data=data | {"agent_id": agent_id})
        dial = await _recorded(session, principal, record, event, dial_id, body, agent_id=agent_id)
    return dial, changed


async def _card(
    session: Any, principal: Principal, config: AssignmentConfig, customer_id: int
) -> tuple[Membership, Customer]:
    card = await load_card(session, customer_id, tenant_id=principal.tenant_id)
    if card is None or card[0].assignment_id != config.assignment.id:
        raise Conflict(
            f"customer {customer_id} left the assignment since it was reserved; nothing was "
            "recorded",
            code="dial_expired",
        )
    return card


async def _recorded(
    session: Any,
    principal: Principal,
    record: MembershipRecord,
    event_draft: Any,
    dial_id: str,
    body: DialReport,
    *,
    agent_id: int | None = None,
) -> Dial:
    event = event_of(event_draft, record, user_id=None)
    session.add(event)
    await session.flush()
    await outbox.enqueue_events(session, WebhookType.dial_result, event)
    dial = Dial(
        tenant_id=principal.tenant_id,
        dial_id=dial_id,
        assignment_id=record.assignment_id,
        customer_id=record.customer_id,
        dialer_user_id=principal.user_id,
        result=body.result,
        agent_id=agent_id,
        event_id=event.id,
        ring_seconds=body.ring_seconds,
    )
    session.add(dial)
    await session.flush()
    return dial


async def _settle(
    res: Resources,
    principal: Principal,
    config: AssignmentConfig,
    dial: Dial,
    token: str,
    agent: "agent_store.Changed | int | None",
    *,
    counted: bool = True,
) -> None:
    """Redis after the commit: the reservation ends; the customer goes home, or to its agent."""
    queue = AssignmentQueue(res.redis, dial.assignment_id)
    floor = DialFloor(queue)
    at = int(time.time() * 1000)
    counts = _counts(dial) if counted else {}
    if dial.result == DialResult.answered.value:
        agent_id = agent.user_id if isinstance(agent, agent_store.Changed) else dial.agent_id
        assert agent_id is not None
        await _bridge(res, principal, config, queue, dial, token, agent_id)
        if counts:
            await floor.add_counts(counts, at_ms=at)
        if isinstance(agent, agent_store.Changed):
            await agent_service.published(res, agent)
        return
    card = await res.store.read_card(dial.customer_id, tenant_id=principal.tenant_id)
    if card is None:
        return
    membership, customer = card
    bars = await res.store.bars_among(principal.tenant_id, customer.phones)
    placement = compute_placement(config.facts(membership, customer, bars=bars), now_ms=at)
    wake = _servable_now(placement, at)

    def also(pipe: Any) -> None:
        floor.finished(pipe, dial.customer_id)
        if counts:
            floor.count(pipe, counts, at_ms=at)
        if wake:
            queue_eligible(pipe, dial.assignment_id)

    await queue.settle(
        dial.customer_id,
        user_id=principal.user_id,
        lease_token=token,
        placement=placement,
        also=also,
    )


async def _bridge(
    res: Resources,
    principal: Principal,
    config: AssignmentConfig,
    queue: AssignmentQueue,
    dial: Dial,
    token: str,
    agent_id: int,
) -> None:
    """The dialer's lease becomes the agent's, and the agent gets the card on its stream."""
    floor = DialFloor(queue)
    try:
        claimed = await floor.hand_over(
            dial.customer_id,
            dialer_id=principal.user_id,
            token=token,
            agent_id=agent_id,
            lease_seconds=config.assignment.lease_seconds,
        )
    except NotHolder:
        return  # handed over already (a repeated report), or the reservation ran out
    await bridge.show_card(
        res,
        principal,
        config,
        agent_id=agent_id,
        claimed=claimed,
        dial_id=dial.dial_id,
        source="dialer",
    )


# Results that rang out without a person answering.
UNANSWERED_RINGS = frozenset({DialResult.no_answer.value, DialResult.busy.value})


def _counts(dial: Dial) -> dict[str, int]:
    """What this result adds to the counters pacing reads."""
    counts = {"dialed": 1}
    if dial.result in (DialResult.answered.value, DialResult.abandoned.value):
        counts["live"] = 1  # answered by a person: what the abandon rate is a share of
    if dial.result == DialResult.abandoned.value:
        counts["abandoned"] = 1
    if dial.ring_seconds is not None:
        # Answered and unanswered rings apart: pacing tells a dial still likely to be answered
        # from one ringing out (shared/dialer/pacing.py).
        ring_ms = int(dial.ring_seconds * 1000)
        if dial.result == DialResult.answered.value:
            counts["ring_ms"], counts["rings"] = ring_ms, 1
        elif dial.result in UNANSWERED_RINGS:
            counts["unanswered_ring_ms"], counts["unanswered_rings"] = ring_ms, 1
    return counts


def _out(dial: Dial, *, replayed: bool) -> DialOut:
    return DialOut(
        dial_id=dial.dial_id,
        result=DialResult(dial.result),
        customer_id=dial.customer_id,
        agent_id=dial.agent_id,
        event_id=dial.event_id,
        replayed=replayed,
    )
