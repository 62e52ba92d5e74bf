"""Changing a follow-up's time or owner (rule 23), then re-placing the customer in its queue."""

from datetime import UTC, datetime

from sqlalchemy.orm.exc import StaleDataError

from services.api.auth.cache import Principal
from services.api.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.api.followups.schemas import FollowUpChange, FollowUpChanged
from services.api.resources import Resources
from services.api.work.cards import load_card, membership_out
from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from shared.models import Assignment, Event, EventKind, FollowUpKind, Permission, User
from shared.moving import flow_of
from shared.placement import load_queue_facts
from shared.timeutil import as_utc, iso_or_none
from shared.visibility import visible_to


async def change_follow_up(
    res: Resources, principal: Principal, customer_id: int, change: FollowUpChange
) -> FollowUpChanged:
    if change.at is None and change.owner_id is None:
        raise Unprocessable("give a new time ('at'), a new owner ('owner_id'), or both")
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
            if membership.followup_kind is None:
                raise Conflict("the customer has no follow-up to change")
            personal = membership.followup_kind == FollowUpKind.personal
            someone_elses = personal and membership.followup_owner_id != principal.user_id
            if someone_elses and not principal.has(Permission.extended_handling.value):
                raise Forbidden("another user's follow-up needs the 'extended_handling' permission")
            before = {
                "followup_at": iso_or_none(membership.followup_at),
                "followup_owner_id": membership.followup_owner_id,
            }
            if change.owner_id is not None:
                if not personal:
                    raise Conflict("a shared follow-up has no owner to change")
                owner = await session.get(User, change.owner_id)
                if owner is None or owner.tenant_id != principal.tenant_id or not owner.active:
                    raise Unprocessable(f"user {change.owner_id} cannot own a follow-up here")
                membership.followup_owner_id = owner.id
            if change.at is not None:
                membership.followup_at = as_utc(change.at)
            event = Event(
                tenant_id=principal.tenant_id,
                customer_id=customer_id,
                assignment_id=membership.assignment_id,
                user_id=principal.user_id,
                kind=EventKind.followup_changed,
                from_state=membership.state,
                to_state=membership.state,
                data={
                    "before": before,
                    "after": {
                        "followup_at": iso_or_none(membership.followup_at),
                        "followup_owner_id": membership.followup_owner_id,
                    },
                },
            )
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
