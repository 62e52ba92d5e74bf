"""The holder's writes (rules 18-21): attempts and outcomes.

Each reads the card, checks the lease and the version, asks the rule
(shared/membership/attempts.py, outcomes.py) for the new membership and its event, and has
the store write both at the version the agent was handed. Only after that does Redis learn
the customer's new place.
"""

import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

from services.api.assignments.cache import AssignmentConfig
from services.api.auth.cache import Principal
from services.api.errors import Conflict, Unprocessable
from services.api.resources import Resources
from services.api.work import receipts
from services.api.work.cards import membership_out
from services.api.work.common import config_for, parse_lease_id, read_card, stale
from services.api.work.schemas import AttemptRequest, OutcomeRequest, WriteResult
from services.queue import AssignmentQueue, NotHolder, Placement, compute_placement, streams
from services.queue.streams import Activity
from shared.calling.evaluate import status
from shared.contact.bars import Bars
from shared.infra import metrics
from shared.infra.timeutil import as_utc, iso_or_none
from shared.membership import attempts, outcomes
from shared.membership.attempts import AttemptKind
from shared.membership.events import Change
from shared.membership.record import MembershipRecord
from shared.membership.statements import CustomerView
from shared.membership.store import NO_EXTRAS, Extras
from shared.models import User
from shared.webhooks.types import WebhookType


class _Held(NamedTuple):
    """A customer the caller holds, at the version the caller was handed."""

    membership: MembershipRecord
    customer: CustomerView
    config: AssignmentConfig
    queue: AssignmentQueue
    token: str
    now: datetime
    # The request's fingerprint, left in the settle's receipt (receipts.py).
    request: str


async def register_attempt(
    res: Resources, principal: Principal, customer_id: int, body: AttemptRequest
) -> WriteResult:
    """No answer or call back later (rules 19-20)."""
    owner_id = body.owner_id if body.kind == AttemptKind.call_back_later else None
    request = receipts.fingerprint("attempt", body)
    held = await _held(
        res, principal, customer_id, body.lease_id, body.version, owner_id, request=request
    )
    change = attempts.register_attempt(
        held.membership,
        held.config.flow,
        body,
        user_id=principal.user_id,
        now=held.now,
        cooldown_seconds=held.config.assignment.cooldown_seconds,
    )
    metrics.ATTEMPTS.labels(body.kind.value).inc()
    return await _store(
        res,
        principal,
        held,
        change,
        activity=Activity.attempts,
        hook=WebhookType.attempt_registered,
    )


async def register_outcome(
    res: Resources, principal: Principal, customer_id: int, body: OutcomeRequest
) -> WriteResult:
    """An outcome the flow allows from the current state (rules 7, 21)."""
    request = receipts.fingerprint("outcome", body)
    held = await _held(
        res,
        principal,
        customer_id,
        body.lease_id,
        body.version,
        body.follow_up_owner_id,
        request=request,
    )
    change = outcomes.register_outcome(
        held.membership, held.config.flow, body, user_id=principal.user_id, now=held.now
    )
    metrics.OUTCOMES.labels(metrics.outcome_code(body.code)).inc()
    return await _store(
        res,
        principal,
        held,
        change,
        activity=Activity.outcomes,
        extras=_extras(body),
        hook=WebhookType.outcome_registered,
    )


def _with_rules_note(
    data: dict[str, Any], config: AssignmentConfig, customer: CustomerView, record: MembershipRecord
) -> dict[str, Any]:
    """The event's data, noting a follow-up promised outside the calling rules: held until
    the rules allow it, or served at its time because the assignment lets call-backs break
    the rules, with that reason (rule 33)."""
    if config.calling is None or record.followup_at is None or "followup_at" not in data:
        return data
    zone = config.facts(record, customer).time_zone
    rules = config.calling
    found = status(rules.rules, zone, as_utc(record.followup_at), closed_days=rules.closed_days)
    if found.open:
        return data
    if config.assignment.callbacks_break_rules:
        note = {"outside": True, "reason": "the assignment lets promised call-backs break them"}
    else:
        note = {"outside": True, "held_until": iso_or_none(found.until)}
    return data | {"calling_rules": note}


def _extras(body: OutcomeRequest) -> Extras:
    if not body.products and body.meeting is None:
        return NO_EXTRAS
    meeting = None
    if body.meeting is not None:
        ends = body.meeting.ends_at
        meeting = body.meeting.model_dump() | {
            "starts_at": as_utc(body.meeting.starts_at),
            "ends_at": as_utc(ends) if ends else None,
        }
    return Extras(products=[p.model_dump() for p in body.products], meeting=meeting)


async def _held(
    res: Resources,
    principal: Principal,
    customer_id: int,
    lease_id: str,
    version: int,
    owner_id: int | None,
    *,
    request: str,
) -> _Held:
    """The card, once the caller is shown to hold it at `version` (and a follow-up owner
    named, to be an active user here): one database read and one Redis round trip."""
    now = datetime.now(UTC)
    membership, customer = await read_card(res, principal, customer_id)
    assignment_id = membership.assignment_id
    config = await config_for(res, assignment_id, principal)
    lease_assignment, token = parse_lease_id(lease_id)
    if lease_assignment != assignment_id:
        raise Conflict("you do not hold this customer: the lease is for another assignment")
    queue = AssignmentQueue(res.redis, assignment_id)
    try:
        await queue.renew(
            customer_id,
            user_id=principal.user_id,
            lease_token=token,
            lease_seconds=config.assignment.lease_seconds,
        )
    except NotHolder as exc:
        replayed = receipts.already_recorded(exc, user_id=principal.user_id, request=request)
        raise (replayed or await stale(res, principal, exc)) from exc
    if membership.version != version:
        raise Conflict(
            f"customer changed since you got it (version {membership.version}, "
            f"you have {version}); nothing was written"
        )
    if owner_id is not None:
        async with res.sessionmaker() as session:
            owner = await session.get(User, owner_id)
        if owner is None or owner.tenant_id != principal.tenant_id or not owner.active:
            raise Unprocessable(f"user {owner_id} cannot own a follow-up here")
    return _Held(membership, customer, config, queue, token, now, request)


async def _store(
    res: Resources,
    principal: Principal,
    held: _Held,
    change: Change,
    *,
    activity: Activity,
    extras: Extras = NO_EXTRAS,
    hook: WebhookType,
) -> WriteResult:
    """Write the change at the handed version, then settle Redis.

    One database round trip (the store's versioned write) and one to Redis (the settle,
    which also counts the write for live stats and, when the customer's new place is one
    /next serves now, wakes waiting agents). When the tenant has an endpoint for the
    webhook `hook`, the write is a transaction that also writes its deliveries (decision 037).
    """
    membership, customer, config = change.record, held.customer, held.config
    assignment_id = membership.assignment_id
    event = change.event
    written = await res.store.write_versioned(
        membership,
        version=held.membership.version,
        event={
            "tenant_id": principal.tenant_id,
            "customer_id": customer.id,
            "assignment_id": assignment_id,
            "user_id": principal.user_id,
            "kind": event.kind,
            "code": event.code,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "comment": event.comment or "",
            "data": _with_rules_note(event.data, config, customer, membership),
            "created_at": held.now,
        },
        phones=customer.phones,
        extras=extras,
        hook=hook if await res.webhooks.subscribed(res.engine, principal.tenant_id, hook) else None,
    )
    if written is None:
        metrics.STALE_WRITES.inc()
        raise Conflict("customer changed while you wrote; nothing was written")
    # The write read the bars of the numbers it was given (write_params pads them in order).
    bars = Bars.from_mask(customer.phones, written.bar_mask)
    facts = config.facts(membership, customer, bars=bars)
    result = WriteResult(
        membership=membership_out(membership, config.flow), event_id=written.event_id
    )
    at = int(time.time() * 1000)
    placement = compute_placement(facts, now_ms=at)
    await streams.settle_counted(
        held.queue,
        customer.id,
        user_id=principal.user_id,
        lease_token=held.token,
        placement=placement,
        activity=activity,
        at_ms=at,
        wake=_servable_now(placement, at),
        receipt=receipts.receipt(principal.user_id, written.event_id, held.request),
    )
    return result


def _servable_now(placement: Placement, at_ms: int) -> bool:
    """Would /next hand this customer out now (free, or a follow-up that is due)?"""
    if placement.kind == "free":
        return True
    return placement.kind in ("sfu", "pfu") and (placement.due_ms or 0) <= at_ms
