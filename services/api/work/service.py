"""The agent's work: next, select, heartbeat, release, attempts and outcomes (rules 10-21).

/next touches Redis once (one Lua claim) and reads one row by primary key. Writes go to the
database first, at the version the agent was handed; only after the commit does Redis learn
the customer's new place.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.cache import AssignmentConfig
from services.api.auth.cache import Principal
from services.api.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.api.resources import Resources
from services.api.work.cards import (
    CustomerView,
    MembershipView,
    card_out,
    membership_out,
    read_card,
)
from services.api.work.schemas import (
    AttemptKind,
    AttemptRequest,
    CardOut,
    EmptyOut,
    LeaseOut,
    OutcomeRequest,
    Reasons,
    ReleaseResult,
    WriteResult,
)
from services.api.work.writes import NO_EXTRAS, EventDraft, Extras, write_versioned
from services.queue import (
    AssignmentQueue,
    Claimed,
    Empty,
    HeldByOther,
    NotHolder,
    NotInQueue,
    Placement,
    compute_placement,
)
from services.queue.broadcast import assignment_channel, eligible_message, publish_eligible
from services.queue.streams import Activity, count_activity
from shared import metrics
from shared.flows import StateKind
from shared.followups import followup_handled
from shared.models import (
    CORRECTION_STATE,
    Event,
    EventKind,
    FollowUpKind,
    PresentationMode,
    User,
)
from shared.outcomes import apply_outcome, clear_followup, set_followup
from shared.placement import blocked_among, queue_facts
from shared.timeutil import as_utc

# Applies an attempt or outcome to the membership and returns the event that records it.
Apply = Callable[[MembershipView, AssignmentConfig, datetime], EventDraft]

# A claim the database disagrees with is re-placed and claimed again, at most this often.
MAX_REPAIRS = 3
# A no-answer on a customer with a personal follow-up pushes the follow-up at least this far.
MIN_FOLLOWUP_RETRY = timedelta(minutes=15)
# A waiting /next claims again at least this often, woken or not: pub/sub is at most once.
RECHECK_S = 5.0
# ... and pauses at least this long after an empty answer, so a stale "next eligible" time
# cannot make it spin.
MIN_PAUSE_S = 0.02


async def _config(res: Resources, assignment_id: int, principal: Principal) -> AssignmentConfig:
    config = await res.assignments.get(
        assignment_id,
        tenant_id=principal.tenant_id,
        sessionmaker=res.sessionmaker,
        redis=res.redis,
    )
    if config is None:
        raise NotFound(f"assignment {assignment_id} not found")
    if not config.visible_to(principal.user_id, datetime.now(UTC)):
        raise Forbidden(f"assignment {assignment_id} is not open to you now")
    return config


async def next_customer(
    res: Resources,
    principal: Principal,
    assignment_id: int,
    *,
    segment_id: int | None,
    wait_seconds: int = 0,
) -> CardOut | EmptyOut:
    """The next right customer; with `wait_seconds`, wait that long for one (rule 13).

    A waiting request holds neither a database nor a Redis connection: it waits on this
    process's Waker, woken by an "eligible" message for the assignment, at the empty answer's
    `next_eligible_at`, or every RECHECK_S, and then claims again.
    """
    if wait_seconds <= 0:
        answer = await _next_once(res, principal, assignment_id, segment_id)
    else:
        answer = await _next_waiting(res, principal, assignment_id, segment_id, wait_seconds)
    if isinstance(answer, EmptyOut):
        metrics.EMPTY_ANSWERS.inc()
    return answer


async def _next_waiting(
    res: Resources,
    principal: Principal,
    assignment_id: int,
    segment_id: int | None,
    wait_seconds: int,
) -> CardOut | EmptyOut:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    with res.waker.watch(assignment_id) as watch:
        while True:
            watch.arm()  # before the claim: a wake-up during it is not lost
            answer = await _next_once(res, principal, assignment_id, segment_id)
            left = deadline - loop.time()
            if isinstance(answer, CardOut) or left <= 0:
                metrics.LONG_POLLS.labels(answer.status).inc()
                return answer
            await watch.wait(_pause(answer, left))


def _pause(empty: EmptyOut, left: float) -> float:
    pause = min(left, RECHECK_S)
    if empty.next_eligible_at is not None:
        until = (empty.next_eligible_at - datetime.now(UTC)).total_seconds()
        pause = min(pause, max(until, MIN_PAUSE_S))
    return pause


async def _next_once(
    res: Resources, principal: Principal, assignment_id: int, segment_id: int | None
) -> CardOut | EmptyOut:
    """One claim (repaired at most MAX_REPAIRS times): a card, or why there is none."""
    started = time.perf_counter()
    config = await _config(res, assignment_id, principal)
    if segment_id is not None and segment_id not in config.segment_ids:
        raise NotFound(f"segment {segment_id} not found in assignment {assignment_id}")
    queue = AssignmentQueue(res.redis, assignment_id)
    a = config.assignment
    for _ in range(MAX_REPAIRS):
        now = datetime.now(UTC)
        result, previous = await queue.claim_tracked(
            user_id=principal.user_id,
            lease_seconds=a.lease_seconds,
            segment=str(segment_id) if segment_id else "",
            personal_first=a.personal_followups_first,
            open_time_zones=config.open_time_zones(now),
        )
        if previous is not None:
            left = await AssignmentQueue(res.redis, previous).release_agent(principal.user_id)
            if left is not None:
                await publish_eligible(res.redis, previous)
        if isinstance(result, Empty):
            return _empty_out(result)
        row = await read_card(
            res.engine, result.customer_id, tenant_id=principal.tenant_id, direct=res.direct
        )
        if row is None or row[0].assignment_id != assignment_id:
            metrics.QUEUE_REPAIRS.inc()
            await queue.remove([result.customer_id])
            continue
        membership, customer = row
        if result.source != "current" and not _servable(membership, customer, config, now):
            metrics.QUEUE_REPAIRS.inc()
            await _replace(res, queue, membership, customer, config, result, principal.user_id)
            continue
        metrics.CLAIMS.labels(result.source).inc()
        metrics.NEXT_LATENCY.observe(time.perf_counter() - started)
        return card_out(
            membership,
            customer,
            config,
            source=result.source,
            lease_token=lease_id_of(assignment_id, result.lease_token),
            lease_expires_ms=result.lease_expires_ms,
        )
    raise Conflict("the queue is being repaired; ask again")


def _servable(
    membership: MembershipView, customer: CustomerView, config: AssignmentConfig, now: datetime
) -> bool:
    """Does the database agree that this customer may be served now?"""
    facts = queue_facts(membership, customer, config.assignment, config.flow)
    place = compute_placement(facts, now_ms=int(now.timestamp() * 1000))
    if place.kind == "free":
        return True
    if place.kind in ("sfu", "pfu"):
        return place.due_ms is not None and place.due_ms <= int(now.timestamp() * 1000) + 1000
    return False


async def _replace(
    res: Resources,
    queue: AssignmentQueue,
    membership: MembershipView,
    customer: CustomerView,
    config: AssignmentConfig,
    claimed: Claimed,
    user_id: int,
) -> None:
    """Put a customer where the database says it belongs, ending the lease just taken."""
    async with res.sessionmaker() as session:
        blocked = await blocked_among(session, membership.tenant_id, customer.phones)
    facts = queue_facts(
        membership, customer, config.assignment, config.flow, blocked_phones=blocked
    )
    await queue.settle(
        customer.id,
        user_id=user_id,
        lease_token=claimed.lease_token,
        placement=compute_placement(facts, now_ms=int(time.time() * 1000)),
    )


def _empty_out(empty: Empty) -> EmptyOut:
    nothing = (
        empty.held
        + empty.cooldown
        + empty.outside_hours
        + empty.blocked
        + empty.at_attempt_limit
        + empty.waiting_followups
    ) == 0
    return EmptyOut(
        reasons=Reasons(
            held=empty.held,
            cooldown=empty.cooldown,
            outside_hours=empty.outside_hours,
            blocked=empty.blocked,
            at_attempt_limit=empty.at_attempt_limit,
            waiting_followups=empty.waiting_followups,
            none_left=nothing,
        ),
        next_eligible_at=(
            datetime.fromtimestamp(empty.next_eligible_ms / 1000, UTC)
            if empty.next_eligible_ms is not None
            else None
        ),
    )


async def _membership_and_config(
    res: Resources, principal: Principal, customer_id: int
) -> tuple[MembershipView, CustomerView, AssignmentConfig]:
    row = await read_card(res.engine, customer_id, tenant_id=principal.tenant_id, direct=res.direct)
    if row is None:
        raise NotFound(f"customer {customer_id} not found or not in an assignment")
    membership, customer = row
    config = await _config(res, membership.assignment_id, principal)
    return membership, customer, config


async def _user_name(res: Resources, tenant_id: int, user_id: int) -> str:
    async with res.sessionmaker() as session:
        user = await session.get(User, user_id)
    return user.name if user is not None and user.tenant_id == tenant_id else f"user {user_id}"


async def select_customer(res: Resources, principal: Principal, customer_id: int) -> CardOut:
    membership, customer, config = await _membership_and_config(res, principal, customer_id)
    if config.assignment.presentation_mode == PresentationMode.predictive:
        raise Forbidden("manual select is not allowed in a predictive assignment")
    if membership.state == CORRECTION_STATE:
        raise Conflict("customer is waiting for a correction; it cannot be taken now")
    queue = AssignmentQueue(res.redis, membership.assignment_id)
    try:
        claimed = await queue.select(
            customer_id, user_id=principal.user_id, lease_seconds=config.assignment.lease_seconds
        )
    except HeldByOther as exc:
        name = await _user_name(res, principal.tenant_id, exc.holder_user_id)
        raise Conflict(
            f"customer is held by {name}", holder={"id": exc.holder_user_id, "name": name}
        ) from exc
    except NotInQueue as exc:
        raise Conflict("customer is not in its assignment's queue; rebuild the queue") from exc
    metrics.CLAIMS.labels("selected").inc()
    return card_out(
        membership,
        customer,
        config,
        source="selected",
        lease_token=lease_id_of(membership.assignment_id, claimed.lease_token),
        lease_expires_ms=claimed.lease_expires_ms,
    )


async def _stale(res: Resources, principal: Principal, exc: NotHolder) -> Conflict:
    metrics.STALE_WRITES.inc()
    if exc.holder_user_id is None:
        return Conflict("you do not hold this customer: the lease expired or was released")
    name = await _user_name(res, principal.tenant_id, exc.holder_user_id)
    return Conflict(
        f"you do not hold this customer: it is held by {name}",
        holder={"id": exc.holder_user_id, "name": name},
    )


def lease_id_of(assignment_id: int, token: str) -> str:
    """The lease id an agent gets: "<assignment>.<token>" (tokens never contain a dot)."""
    return f"{assignment_id}.{token}"


def _parse_lease_id(lease_id: str) -> tuple[int, str]:
    head, dot, token = lease_id.partition(".")
    if not dot or not head.isdigit() or not token:
        raise Conflict("you do not hold this customer: unknown lease id")
    return int(head), token


async def heartbeat(
    res: Resources, principal: Principal, customer_id: int, *, lease_id: str
) -> LeaseOut:
    """Redis only: the lease id names its assignment, and Redis knows who holds what."""
    assignment_id, token = _parse_lease_id(lease_id)
    config = await _config(res, assignment_id, principal)
    queue = AssignmentQueue(res.redis, assignment_id)
    try:
        expiry = await queue.renew(
            customer_id,
            user_id=principal.user_id,
            lease_token=token,
            lease_seconds=config.assignment.lease_seconds,
        )
    except NotHolder as exc:
        raise await _stale(res, principal, exc) from exc
    return LeaseOut(id=lease_id, expires_at=datetime.fromtimestamp(expiry / 1000, UTC))


async def release(
    res: Resources,
    principal: Principal,
    customer_id: int,
    *,
    lease_id: str,
    force: bool = False,
) -> ReleaseResult:
    if force:
        membership, _, _ = await _membership_and_config(res, principal, customer_id)
        assignment_id, token = membership.assignment_id, ""
    else:
        # Redis only, like heartbeat: the lease id names the assignment.
        assignment_id, token = _parse_lease_id(lease_id)
        await _config(res, assignment_id, principal)
    queue = AssignmentQueue(res.redis, assignment_id)
    try:
        holder = await queue.release(
            customer_id, user_id=principal.user_id, lease_token=token, force=force
        )
    except NotHolder as exc:
        if force:
            raise Conflict("nobody holds this customer") from exc
        raise await _stale(res, principal, exc) from exc
    # Back home as it was: if that is a place /next serves, a waiting colleague gets it now.
    await publish_eligible(res.redis, assignment_id)
    if force:
        async with res.session() as session:
            session.add(
                Event(
                    tenant_id=principal.tenant_id,
                    customer_id=customer_id,
                    assignment_id=assignment_id,
                    user_id=principal.user_id,
                    kind=EventKind.force_released,
                    data={"holder_user_id": holder},
                )
            )
    return ReleaseResult(released=True, holder_user_id=holder)


async def register_attempt(
    res: Resources, principal: Principal, customer_id: int, body: AttemptRequest
) -> WriteResult:
    """No answer or call back later (rules 19-20)."""

    def apply(membership: MembershipView, config: AssignmentConfig, now: datetime) -> EventDraft:
        if membership.state == CORRECTION_STATE:
            raise Conflict("customer is waiting for a correction: no attempts")
        kind = config.flow.kind_of(membership.state)
        if kind == StateKind.final:
            raise Conflict(f"customer is in the final state '{membership.state}': no attempts")
        membership.attempts += 1
        membership.last_attempt_at = now
        data: dict[str, object] = {}
        if body.kind == AttemptKind.no_answer:
            if membership.followup_kind == FollowUpKind.personal:
                retry = max(
                    timedelta(seconds=config.assignment.cooldown_seconds), MIN_FOLLOWUP_RETRY
                )
                membership.followup_at = now + retry
            else:
                clear_followup(membership)
        else:
            if body.at is None:
                raise Unprocessable("call_back_later needs a time ('at')")
            at = as_utc(body.at)
            if kind == StateKind.free:
                set_followup(membership, FollowUpKind.shared, at, owner=None)
            else:
                owner = body.owner_id or principal.user_id
                set_followup(membership, FollowUpKind.personal, at, owner=owner)
            data = {"followup_at": at.isoformat(), "followup_kind": membership.followup_kind}
            if membership.followup_owner_id is not None:
                data["followup_owner_id"] = membership.followup_owner_id
        metrics.ATTEMPTS.labels(body.kind.value).inc()
        return EventDraft(
            kind=EventKind.attempt,
            code=body.kind.value,
            from_state=membership.state,
            to_state=membership.state,
            comment=body.comment,
            data=data,
        )

    owner_check = body.owner_id if body.kind == AttemptKind.call_back_later else None
    return await _write(
        res,
        principal,
        customer_id,
        body.lease_id,
        body.version,
        apply,
        owner_check,
        activity=Activity.attempts,
    )


async def register_outcome(
    res: Resources, principal: Principal, customer_id: int, body: OutcomeRequest
) -> WriteResult:
    """An outcome the flow allows from the current state (rules 7, 21)."""

    def apply(membership: MembershipView, config: AssignmentConfig, now: datetime) -> EventDraft:
        flow = config.flow
        outcome = flow.outcome(body.code, membership.state)
        if outcome is None:
            if not flow.has_outcome(body.code):
                raise Unprocessable(f"unknown outcome '{body.code}'")
            raise Unprocessable(
                f"outcome '{body.code}' is not allowed from state '{membership.state}'"
            )
        if outcome.follow_up_time_required and body.follow_up_at is None:
            raise Unprocessable(f"outcome '{body.code}' needs a follow-up time")
        from_state = membership.state
        at = as_utc(body.follow_up_at) if body.follow_up_at else None
        data: dict[str, object] = {"fields": body.fields} if body.fields else {}
        data |= apply_outcome(
            membership,
            outcome,
            user_id=principal.user_id,
            now=now,
            follow_up_at=at,
            follow_up_owner_id=body.follow_up_owner_id,
        )
        metrics.OUTCOMES.labels(body.code).inc()
        return EventDraft(
            kind=EventKind.outcome,
            code=body.code,
            from_state=from_state,
            to_state=outcome.to_state,
            comment=body.comment,
            data=data,
        )

    return await _write(
        res,
        principal,
        customer_id,
        body.lease_id,
        body.version,
        apply,
        body.follow_up_owner_id,
        activity=Activity.outcomes,
        extras=_extras(body),
    )


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


async def _check_owner(session: AsyncSession, tenant_id: int, owner_id: int) -> None:
    owner = await session.get(User, owner_id)
    if owner is None or owner.tenant_id != tenant_id or not owner.active:
        raise Unprocessable(f"user {owner_id} cannot own a follow-up here")


async def _write(
    res: Resources,
    principal: Principal,
    customer_id: int,
    lease_id: str,
    version: int,
    apply: Apply,
    owner_id: int | None,
    *,
    activity: Activity,
    extras: Extras = NO_EXTRAS,
) -> WriteResult:
    """The holder's write: check the lease, write at the handed version, then settle Redis.

    Two database round trips (the card read, then one versioned write statement; see
    writes.py) and two to Redis (the lease check, then the settle, which also counts the
    write for live stats and, when the customer's new place is one /next serves now, wakes
    waiting agents).
    """
    now = datetime.now(UTC)
    row = await read_card(res.engine, customer_id, tenant_id=principal.tenant_id, direct=res.direct)
    if row is None:
        raise NotFound(f"customer {customer_id} not found or not in an assignment")
    current, customer = row
    assignment_id = current.assignment_id
    config = await _config(res, assignment_id, principal)
    lease_assignment, token = _parse_lease_id(lease_id)
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
        raise await _stale(res, principal, exc) from exc
    if current.version != version:
        raise Conflict(
            f"customer changed since you got it (version {current.version}, "
            f"you have {version}); nothing was written"
        )
    if owner_id is not None:
        async with res.sessionmaker() as session:
            await _check_owner(session, principal.tenant_id, owner_id)
    # A plain copy: apply() changes it in memory, write_versioned() stores the change.
    membership = replace(current)
    handled = followup_handled(current, now)
    event = apply(membership, config, now)
    data = dict(event.data)
    if handled is not None:
        data["followup_handled"] = handled
    written = await write_versioned(
        res.engine,
        res.direct,
        membership,
        version=version,
        event={
            "tenant_id": principal.tenant_id,
            "customer_id": customer_id,
            "assignment_id": assignment_id,
            "user_id": principal.user_id,
            "kind": event.kind,
            "code": event.code,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "comment": event.comment or "",
            "data": data,
            "created_at": now,
        },
        phones=customer.phones,
        extras=extras,
    )
    if written is None:
        metrics.STALE_WRITES.inc()
        raise Conflict("customer changed while you wrote; nothing was written")
    membership.version = version + 1
    phones = set(customer.phones)
    # Blocked only when every number is (queue_facts): the count says whether all are.
    blocked = phones if phones and written.blocked_phones >= len(phones) else set()
    facts = queue_facts(
        membership, customer, config.assignment, config.flow, blocked_phones=blocked
    )
    result = WriteResult(
        membership=membership_out(membership, config.flow), event_id=written.event_id
    )
    at = int(time.time() * 1000)
    placement = compute_placement(facts, now_ms=at)

    def count_and_wake(pipe: Any) -> None:
        count_activity(pipe, assignment_id, activity, at_ms=at)
        if _servable_now(placement, at):
            pipe.publish(assignment_channel(assignment_id), eligible_message(assignment_id))

    await queue.settle(
        customer_id,
        user_id=principal.user_id,
        lease_token=token,
        placement=placement,
        also=count_and_wake,
    )
    return result


def _servable_now(placement: Placement, at_ms: int) -> bool:
    """Would /next hand this customer out now (free, or a follow-up that is due)?"""
    if placement.kind == "free":
        return True
    return placement.kind in ("sfu", "pfu") and (placement.due_ms or 0) <= at_ms
