"""An inbound call (seeds 003/004): find the caller among the tenant's customers, lease the
customer to an agent and show that agent the card, as a bridged dial does."""

import secrets
from datetime import UTC, datetime

from sqlalchemy import func, or_, select

from services.api.agents import service as agent_service
from services.api.agents import store as agent_store
from services.api.auth.cache import Principal
from services.api.dialer import bridge
from services.api.dialer.ids import dial_id_of
from services.api.dialer.schemas import InboundCall, InboundOut
from services.api.errors import Conflict, Unprocessable
from services.api.resources import Resources
from services.api.work.common import user_name
from services.queue import AssignmentQueue, HeldByOther, NotInQueue
from shared.customers.phones import InvalidPhone, normalise_phone
from shared.infra import metrics
from shared.infra.timeutil import as_utc
from shared.membership.events import EventDraft, event_of
from shared.membership.record import record_of
from shared.models import Customer, Dial, DialResult, EventKind, Membership

# The most customers one number is looked up among (a number shared by a household or a
# switchboard): beyond it the earliest ids win.
MAX_CANDIDATES = 20


async def inbound(res: Resources, principal: Principal, body: InboundCall) -> InboundOut:
    try:
        number = normalise_phone(body.caller)
    except InvalidPhone as exc:
        raise Unprocessable(str(exc), code="invalid_phone") from exc
    found = await _match(res, principal, number, body.agent_id)
    metrics.INBOUND_CALLS.labels("yes" if found else "no").inc()
    if found is None:
        return InboundOut(matched=False, customer_id=None, agent_id=None, dial_id=None)
    customer_id, assignment_id = found
    config = await res.assignments.get(
        assignment_id,
        tenant_id=principal.tenant_id,
        sessionmaker=res.sessionmaker,
        redis=res.redis,
    )
    assert config is not None
    async with res.sessionmaker() as session:
        agent_id = body.agent_id or await agent_store.longest_ready(session, assignment_id)
    if agent_id is None:
        raise Conflict(
            "no agent working this customer's assignment is ready", code="no_agent_ready"
        )
    queue = AssignmentQueue(res.redis, assignment_id)
    try:
        claimed = await queue.select(
            customer_id, user_id=agent_id, lease_seconds=config.assignment.lease_seconds
        )
    except HeldByOther as exc:
        name = await user_name(res, principal.tenant_id, exc.holder_user_id)
        raise Conflict(
            f"customer is held by {name}",
            code="customer_held",
            holder={"id": exc.holder_user_id, "name": name},
        ) from exc
    except NotInQueue as exc:
        raise Conflict("customer is not in its assignment's queue; rebuild the queue") from exc
    dial_id = dial_id_of(assignment_id, customer_id, "in-" + secrets.token_urlsafe(9))
    try:
        async with res.session() as session:
            changed = await bridge.on_call(
                session,
                principal,
                agent_id=agent_id,
                customer_id=customer_id,
                dial_id=dial_id,
                now=res.clock(),
            )
            membership = await session.scalar(
                select(Membership).where(Membership.customer_id == customer_id)
            )
            assert membership is not None
            record = record_of(membership)
            draft = EventDraft(
                kind=EventKind.inbound_call,
                to_state=record.state,
                from_state=record.state,
                data={"dial_id": dial_id, "agent_id": agent_id},
            )
            event = event_of(draft, record, user_id=None)
            session.add(event)
            await session.flush()
            session.add(
                Dial(
                    tenant_id=principal.tenant_id,
                    dial_id=dial_id,
                    assignment_id=assignment_id,
                    customer_id=customer_id,
                    dialer_user_id=principal.user_id,
                    result=DialResult.inbound.value,
                    agent_id=agent_id,
                    event_id=event.id,
                )
            )
    except Exception:
        # The agent could not take it (busy, paused, elsewhere): the customer goes back.
        await queue.release(customer_id, user_id=agent_id, lease_token=claimed.lease_token)
        raise
    await bridge.show_card(
        res,
        principal,
        config,
        agent_id=agent_id,
        claimed=claimed,
        dial_id=dial_id,
        source="inbound",
    )
    await agent_service.published(res, changed)
    return InboundOut(matched=True, customer_id=customer_id, agent_id=agent_id, dial_id=dial_id)


async def _match(
    res: Resources, principal: Principal, number: str, agent_id: int | None
) -> tuple[int, int] | None:
    """(customer, assignment) of the caller: a customer called before first (the latest
    call), then one in an assignment visible to the agent, then the earliest id."""
    phone = or_(Customer.phone_1 == number, Customer.phone_2 == number, Customer.phone_3 == number)
    last_call = (
        select(func.max(Dial.reported_at))
        .where(Dial.customer_id == Customer.id, Dial.tenant_id == principal.tenant_id)
        .scalar_subquery()
    )
    query = (
        select(Customer.id, Membership.assignment_id, last_call)
        .join(Membership, Membership.customer_id == Customer.id)
        .where(Customer.tenant_id == principal.tenant_id, phone)
        .order_by(Customer.id)
        .limit(MAX_CANDIDATES)
    )
    async with res.sessionmaker() as session:
        rows: list[tuple[int, int, datetime | None]] = [
            (int(c), int(a), called) for c, a, called in (await session.execute(query)).all()
        ]
    if not rows:
        return None
    now = datetime.now(UTC)
    visible: dict[int, bool] = {}
    for _, assignment_id, _ in rows:
        if assignment_id not in visible:
            visible[assignment_id] = agent_id is not None and await _visible(
                res, principal, assignment_id, agent_id, now
            )

    def rank(row: tuple[int, int, datetime | None]) -> tuple[bool, float, bool, int]:
        customer_id, assignment_id, called = row
        latest_first = -as_utc(called).timestamp() if called is not None else 0.0
        return (called is None, latest_first, not visible[assignment_id], customer_id)

    best = min(rows, key=rank)
    return best[0], best[1]


async def _visible(
    res: Resources, principal: Principal, assignment_id: int, agent_id: int, now: datetime
) -> bool:
    config = await res.assignments.get(
        assignment_id,
        tenant_id=principal.tenant_id,
        sessionmaker=res.sessionmaker,
        redis=res.redis,
    )
    return config is not None and config.visible_to(agent_id, now)
