"""What the correction endpoints share: the permission, user checks, the holder check, and
putting a customer back in its queue after the commit."""

from dataclasses import dataclass
from typing import Annotated

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.corrections.schemas import Resolve
from services.api.deps import require
from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.resources import Resources
from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from shared.flows import FlowSpec
from shared.membership.placement import QueueFacts, load_queue_facts
from shared.membership.record import MembershipRecord
from shared.models import Assignment, Event, Permission, User

# Sending to correction, correcting yourself and report flags (administrator also passes).
Corrector = Annotated[Principal, require(Permission.correction)]


async def active_user(session: AsyncSession, tenant_id: int, user_id: int, role: str) -> User:
    """An active user of the tenant, else 422 naming the role the user was meant to play."""
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id or not user.active:
        raise Unprocessable(f"user {user_id} cannot be the {role}: not an active user here")
    return user


async def refuse_if_held(
    res: Resources, tenant_id: int, assignment_id: int, customer_id: int
) -> None:
    """409 naming the holder: an agent on the phone with the customer must finish first.

    The check is not atomic with the write; an agent who claims in between is stopped by the
    version check of their own write (the correction bumps the membership's version).
    """
    holder = await AssignmentQueue(res.redis, assignment_id).holder(customer_id)
    if holder is None:
        return
    async with res.sessionmaker() as session:
        user = await session.get(User, holder.user_id)
    name = user.name if user is not None and user.tenant_id == tenant_id else "another user"
    raise Conflict(
        f"customer is held by {name} right now; try again when they are done",
        holder={"id": holder.user_id, "name": name},
    )


async def locked_event(session: AsyncSession, tenant_id: int, event_id: int) -> Event:
    """The tenant's event, locked: two changes of one event queue up instead of racing."""
    event = await session.scalar(
        select(Event).where(Event.id == event_id, Event.tenant_id == tenant_id).with_for_update()
    )
    if event is None:
        raise NotFound(f"event {event_id} not found")
    return event


async def check_chosen(
    res: Resources,
    session: AsyncSession,
    principal: Principal,
    membership: MembershipRecord,
    body: Resolve,
) -> None:
    """What the corrector's outcome needs beyond the rule: its follow-up owner is an active
    user here, and nobody holds the customer."""
    if body.follow_up_owner_id is not None:
        await active_user(session, principal.tenant_id, body.follow_up_owner_id, "follow-up owner")
    await refuse_if_held(res, principal.tenant_id, membership.assignment_id, membership.customer_id)


@dataclass(frozen=True, slots=True)
class Requeue:
    """A customer's place read inside the transaction, to be put in Redis after the commit."""

    assignment_id: int
    facts: list[QueueFacts]

    async def apply(self, res: Resources) -> None:
        """Place the customer and wake waiting agents: it may be servable now (one cheap
        publish when nobody waits)."""
        await AssignmentQueue(res.redis, self.assignment_id).place_sources(self.facts)
        await publish_eligible(res.redis, self.assignment_id)


async def requeue_of(
    session: AsyncSession, assignment: Assignment, flow: FlowSpec, customer_id: int
) -> Requeue:
    facts = [
        f
        async for batch in load_queue_facts(session, assignment, flow, customer_ids=[customer_id])
        for f in batch
    ]
    return Requeue(assignment.id, facts)
