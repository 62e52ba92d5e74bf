"""Correct yourself (rule 26b): register the right outcome in place of an earlier one.

The earlier outcome stays in the history, names its correction, and leaves the reports; the
new one counts as the original user at the original time, or as the correcting user now.

The customer's state follows the correction only when the corrected outcome is still the
latest change of state in that assignment. When something changed the state afterwards
(another outcome, a move, a correction sent), or the customer left the assignment, only the
record and the reports are corrected: the present state was set by that later step.
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.api.auth.cache import Principal
from services.api.corrections.common import Requeue, check_chosen, locked_event, requeue_of
from services.api.corrections.schemas import Corrected, CountAs, SelfCorrection
from services.api.errors import Conflict
from services.api.resources import Resources
from services.api.work.cards import membership_out
from shared.membership import corrections
from shared.membership.events import event_for
from shared.membership.moving import flow_of
from shared.membership.record import record_of, store_into
from shared.models import Assignment, Event, EventKind, Membership

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
            corrections.may_correct(
                event_id,
                kind=old.kind,
                assignment_id=old.assignment_id,
                corrected_by_event_id=old.corrected_by_event_id,
            )
            assignment = await session.get(Assignment, old.assignment_id)
            assert assignment is not None  # an outcome's assignment is never deleted
            flow = await flow_of(session, assignment)
            outcome = corrections.self_correction_outcome(
                flow, body.code, from_state=old.from_state
            )
            membership = await _current_membership(session, old)
            record = record_of(membership) if membership is not None else None
            changed, draft = corrections.self_correct(
                record,
                outcome,
                body,
                corrected_event_id=old.id,
                from_state=old.from_state,
                user_id=principal.user_id,
                now=now,
            )
            if membership is not None and record is not None and changed is not None:
                await check_chosen(res, session, principal, record, body)
                store_into(membership, changed)
            new = event_for(
                draft,
                tenant_id=principal.tenant_id,
                customer_id=old.customer_id,
                assignment_id=assignment.id,
                user_id=principal.user_id,
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
