"""Send to correction and resolve (rule 26a): the rules are in
shared/membership/corrections.py; here the rows are read, locked and written."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.api.auth.cache import Principal
from services.api.corrections.common import (
    active_user,
    check_chosen,
    refuse_if_held,
    requeue_of,
)
from services.api.corrections.schemas import (
    CorrectionOut,
    CorrectionResult,
    OutcomeRef,
    Resolve,
    SendToCorrection,
    UserRef,
)
from services.api.errors import Conflict, NotFound
from services.api.resources import Resources
from services.api.users.names import user_names
from services.api.work.cards import membership_out
from shared.flows import FlowSpec
from shared.membership import corrections
from shared.membership.events import event_of
from shared.membership.moving import flow_of
from shared.membership.record import record_of, store_into
from shared.models import Assignment, Correction, Membership


async def send_to_correction(
    res: Resources, principal: Principal, customer_id: int, body: SendToCorrection
) -> CorrectionResult:
    now = datetime.now(UTC)
    try:
        async with res.session() as session:
            membership = await _membership(session, principal.tenant_id, customer_id)
            record = record_of(membership)
            corrections.may_send(record, version=body.version)
            await active_user(session, principal.tenant_id, body.owner_user_id, "correction owner")
            assignment, flow = await _assignment_and_flow(session, membership.assignment_id)
            allowed = corrections.allowed_codes(flow, body.allowed_outcomes)
            await refuse_if_held(res, principal.tenant_id, assignment.id, customer_id)
            correction = Correction(
                tenant_id=principal.tenant_id,
                customer_id=customer_id,
                assignment_id=assignment.id,
                owner_user_id=body.owner_user_id,
                requested_by_user_id=principal.user_id,
                reason=body.reason,
                allowed_outcomes=allowed,
                previous_state=record.state,
            )
            session.add(correction)
            await session.flush()
            change = corrections.send_to_correction(
                record,
                correction_id=correction.id,
                owner_user_id=body.owner_user_id,
                reason=body.reason,
                allowed=allowed,
                user_id=principal.user_id,
                now=now,
            )
            event = event_of(change.event, change.record, user_id=principal.user_id)
            store_into(membership, change.record)
            session.add(event)
            await session.flush()
            result = await _result(session, correction, membership, flow, event.id)
            requeue = await requeue_of(session, assignment, flow, customer_id)
    except StaleDataError as exc:
        raise Conflict("the customer changed meanwhile; nothing was written") from exc
    # Parked now: "@correction" is no state of the flow, so /next passes it by.
    await requeue.apply(res)
    return result


async def resolve(
    res: Resources, principal: Principal, correction_id: int, body: Resolve
) -> CorrectionResult:
    now = datetime.now(UTC)
    try:
        async with res.session() as session:
            correction = await session.get(Correction, correction_id, with_for_update=True)
            if correction is None or correction.tenant_id != principal.tenant_id:
                raise NotFound(f"correction {correction_id} not found")
            corrections.may_resolve(
                correction.id,
                owner_user_id=correction.owner_user_id,
                resolved_at=correction.resolved_at,
                allowed_outcomes=correction.allowed_outcomes,
                user_id=principal.user_id,
                code=body.code,
            )
            membership = await _membership(session, principal.tenant_id, correction.customer_id)
            record = record_of(membership)
            assignment, flow = await _assignment_and_flow(session, correction.assignment_id)
            change = corrections.resolve(
                record,
                flow,
                body,
                correction_id=correction.id,
                correction_assignment_id=correction.assignment_id,
                previous_state=correction.previous_state,
                user_id=principal.user_id,
                now=now,
            )
            await check_chosen(res, session, principal, record, body)
            store_into(membership, change.record)
            event = event_of(change.event, change.record, user_id=principal.user_id)
            session.add(event)
            await session.flush()
            correction.resolved_at = now
            correction.resolved_event_id = event.id
            result = await _result(session, correction, membership, flow, event.id)
            requeue = await requeue_of(session, assignment, flow, membership.customer_id)
    except StaleDataError as exc:
        raise Conflict("the customer changed meanwhile; nothing was written") from exc
    await requeue.apply(res)
    return result


async def _membership(session: AsyncSession, tenant_id: int, customer_id: int) -> Membership:
    """The customer's membership, locked: two corrections of one customer queue up here."""
    membership = await session.scalar(
        select(Membership)
        .where(Membership.customer_id == customer_id, Membership.tenant_id == tenant_id)
        .with_for_update()
    )
    if membership is None:
        raise NotFound(f"customer {customer_id} not found or not in an assignment")
    return membership


async def _assignment_and_flow(
    session: AsyncSession, assignment_id: int
) -> tuple[Assignment, FlowSpec]:
    assignment = await session.get(Assignment, assignment_id)
    assert assignment is not None  # foreign key
    return assignment, await flow_of(session, assignment)


async def _result(
    session: AsyncSession,
    correction: Correction,
    membership: Membership,
    flow: FlowSpec,
    event_id: int,
) -> CorrectionResult:
    ids = {correction.owner_user_id, correction.requested_by_user_id}
    names = await user_names(session, correction.tenant_id, ids)
    return CorrectionResult(
        correction=correction_out(correction, flow, names),
        membership=membership_out(membership, flow),
        event_id=event_id,
    )


def outcome_refs(flow: FlowSpec, codes: list[str]) -> list[OutcomeRef]:
    """Codes with their names in the flow (a code since removed from the flow keeps its code)."""
    names = {o.code: o.name for o in reversed(flow.outcomes)}
    return [OutcomeRef(code=code, name=names.get(code, code)) for code in codes]


def correction_out(correction: Correction, flow: FlowSpec, names: dict[int, str]) -> CorrectionOut:
    return CorrectionOut(
        id=correction.id,
        customer_id=correction.customer_id,
        assignment_id=correction.assignment_id,
        owner=_ref(correction.owner_user_id, names),
        requested_by=_ref(correction.requested_by_user_id, names),
        reason=correction.reason,
        allowed_outcomes=outcome_refs(flow, correction.allowed_outcomes),
        previous_state=correction.previous_state,
        created_at=correction.created_at,
        resolved_at=correction.resolved_at,
        resolved_event_id=correction.resolved_event_id,
    )


def _ref(user_id: int, names: dict[int, str]) -> UserRef:
    return UserRef(id=user_id, name=names.get(user_id, f"user {user_id}"))
