"""Correct yourself (rule 26b): register the right outcome in place of an earlier one.

The earlier outcome stays in the history, names its correction, and leaves the reports; the
new one counts as the original user at the original time, or as the correcting user now.

The customer's state follows the correction only when the corrected outcome is still the
latest change of state in that assignment. When something changed the state afterwards
(another outcome, a move, a correction sent), or the customer left the assignment, only the
record and the reports are corrected: the present state was set by that later step.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.api.auth.cache import Principal
from services.api.corrections.common import (
    Requeue,
    apply_chosen,
    locked_event,
    outcome_event,
    outcome_for,
    requeue_of,
)
from services.api.corrections.schemas import Corrected, CountAs, SelfCorrection
from services.api.errors import Conflict, Unprocessable
from services.api.resources import Resources
from services.api.work.cards import membership_out
from shared.models import CORRECTION_STATE, Assignment, Event, EventKind, Membership
from shared.moving import flow_of

# Events after which the corrected outcome is no longer what set the customer's state.
STATE_CHANGES = (
    EventKind.outcome,
    EventKind.bulk_outcome,
    EventKind.moved,
    EventKind.sent_to_correction,
    EventKind.imported,
)


async def correct_event(
    res: Resources, principal: Principal, event_id: int, body: SelfCorrection
) -> Corrected:
    now = datetime.now(UTC)
    requeue: Requeue | None = None
    try:
        async with res.session() as session:
            old = await locked_event(session, principal.tenant_id, event_id)
            if old.kind != EventKind.outcome or old.assignment_id is None:
                raise Unprocessable(f"event {event_id} is not an outcome; only outcomes can be")
            if old.corrected_by_event_id is not None:
                raise Conflict(
                    f"event {event_id} is corrected already by event {old.corrected_by_event_id}"
                )
            assignment = await session.get(Assignment, old.assignment_id)
            assert assignment is not None  # an outcome's assignment is never deleted
            flow = await flow_of(session, assignment)
            if not flow.has_outcome(body.code):
                raise Unprocessable(f"unknown outcome '{body.code}'")
            from_state = old.from_state or ""
            outcome = flow.outcome(body.code, from_state)
            if from_state == CORRECTION_STATE:
                # Resolving a correction was not bound by from-states (the sender chose the
                # codes); neither is correcting that resolution.
                outcome = outcome_for(flow, body.code, from_state)
            if outcome is None:
                raise Unprocessable(
                    f"outcome '{body.code}' is not allowed from state '{from_state}', "
                    "where the corrected outcome was registered"
                )
            membership = await _current_membership(session, old)
            data: dict[str, Any] = {"correction_of": old.id}
            if membership is not None:
                data |= await apply_chosen(
                    res, session, principal, membership, outcome, body=body, now=now
                )
            new = outcome_event(
                principal,
                customer_id=old.customer_id,
                assignment_id=assignment.id,
                body=body,
                from_state=old.from_state,
                to_state=outcome.to_state,
                data=data,
            )
            new.corrects_event_id = old.id
            if body.count_as == CountAs.original:
                # Counted where the corrected outcome was counted (its own re-attribution
                # included); "me" leaves both NULL: the caller, now.
                new.report_user_id = old.report_user_id or old.user_id
                new.report_at = old.report_at or old.created_at
            session.add(new)
            await session.flush()
            old.corrected_by_event_id = new.id
            result = Corrected(
                event_id=new.id,
                corrected_event_id=old.id,
                state_changed=membership is not None,
                membership=membership_out(membership, flow) if membership else None,
            )
            if membership is not None:
                requeue = await requeue_of(session, assignment, flow, old.customer_id)
    except StaleDataError as exc:
        raise Conflict("the customer changed meanwhile; nothing was written") from exc
    if requeue is not None:
        await requeue.apply(res)
    return result


async def _current_membership(session: AsyncSession, old: Event) -> Membership | None:
    """The membership, locked, when `old` is still what set its state; else None."""
    membership = await session.scalar(
        select(Membership).where(Membership.customer_id == old.customer_id).with_for_update()
    )
    if (
        membership is None
        or membership.assignment_id != old.assignment_id
        or membership.state != old.to_state
    ):
        return None
    later = await session.scalar(
        select(Event.id)
        .where(
            Event.customer_id == old.customer_id,
            Event.id > old.id,
            Event.kind.in_([k.value for k in STATE_CHANGES]),
            # A later correction changed the state only if it corrected a later event (then
            # that event is found here) or `old` itself (then `old` is corrected already).
            Event.corrects_event_id.is_(None),
        )
        .limit(1)
    )
    return membership if later is None else None
