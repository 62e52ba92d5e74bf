"""Changing a follow-up's time or owner (rule 23; the rule: shared/membership/followups.py),
then re-placing the customer in its queue."""

from datetime import UTC, datetime

from sqlalchemy.orm.exc import StaleDataError

from services.api.auth.cache import Principal
from services.api.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.api.followups.schemas import FollowUpChange, FollowUpChanged
from services.api.resources import Resources
from services.api.visibility import visible_to
from services.api.work.cards import load_card, membership_out
from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from shared.membership import followups
from shared.membership.events import event_of
from shared.membership.moving import flow_of
from shared.membership.placement import load_queue_facts
from shared.membership.record import record_of, store_into
from shared.models import Assignment, Permission, User


async def change_follow_up(
    res: Resources, principal: Principal, customer_id: int, change: FollowUpChange
) -> FollowUpChanged:
    followups.require_change(change.at, change.owner_id)
    try:
        async with res.session() as session:
            row = await load_card(session, customer_id, tenant_id=principal.tenant_id)
            if row is None:
                raise NotFound(f"customer {customer_id} not found or not in an assignment")
            membership, _ = row
            assignment = await session.get(Assignment, membership.assignment_id)
            assert assignment is not None
            if not visible_to(assignment, principal.user_id, datetime.now(UTC)):
                raise Forbidden(f"assignment {assignment.id} is not open to you now")
            changed = followups.change_follow_up(
                record_of(membership),
                at=change.at,
                owner_id=change.owner_id,
                user_id=principal.user_id,
                may_change_others=principal.has(Permission.extended_handling.value),
            )
            if change.owner_id is not None:
                owner = await session.get(User, change.owner_id)
                if owner is None or owner.tenant_id != principal.tenant_id or not owner.active:
                    raise Unprocessable(f"user {change.owner_id} cannot own a follow-up here")
            store_into(membership, changed.record)
            event = event_of(changed.event, changed.record, user_id=principal.user_id)
            session.add(event)
            await session.flush()
            flow = await flow_of(session, assignment)
            result = FollowUpChanged(membership=membership_out(membership, flow), event_id=event.id)
            facts = [
                f
                async for batch in load_queue_facts(
                    session, assignment, flow, customer_ids=[customer_id]
                )
                for f in batch
            ]
    except StaleDataError as exc:
        raise Conflict("the customer changed meanwhile; nothing was written") from exc
    await AssignmentQueue(res.redis, membership.assignment_id).place_sources(facts)
    await publish_eligible(res.redis, membership.assignment_id)  # due now, or waiters re-time
    return result
