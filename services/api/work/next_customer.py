"""The next right customer (rules 10-16): one claim, the long poll, the empty answer.

/next touches Redis once (one Lua claim) and reads one row by primary key (the store's card
read, which brings the customer's blocklist and register bars and its consent along). A claim
the database disagrees with is repaired and claimed again; a barred customer is put where it
waits (blocked) and the claim goes on.
"""

import asyncio
import time
from datetime import UTC, datetime

from services.api.assignments.cache import AssignmentConfig
from services.api.auth.cache import Principal
from services.api.errors import Conflict, NotFound
from services.api.resources import Resources
from services.api.work.cards import card_out
from services.api.work.common import config_for, lease_id_of
from services.api.work.schemas import CardOut, EmptyOut, Reasons
from services.queue import AssignmentQueue, Claimed, Empty, compute_placement
from services.queue.broadcast import publish_eligible
from shared.contact.bars import Bar
from shared.infra import metrics
from shared.membership.record import MembershipRecord
from shared.membership.statements import CustomerView

# A claim the database disagrees with is re-placed and claimed again, at most this often.
MAX_REPAIRS = 3
# Customers found barred at claim time (a register import still re-placing them) are put
# aside and the claim goes on, at most this often per request.
MAX_BARRED = 20
# A waiting /next claims again at least this often, woken or not: pub/sub is at most once.
RECHECK_S = 5.0
# ... and pauses at least this long after an empty answer, so a stale "next eligible" time
# cannot make it spin.
MIN_PAUSE_S = 0.02


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
        reason = Bar.stale_register if answer.stopped else answer.reasons.model_dump()
        metrics.NEXT_ANSWERS.labels("empty", metrics.main_reason(reason)).inc()
    else:
        metrics.NEXT_ANSWERS.labels("claimed", answer.source).inc()
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
    config = await config_for(res, assignment_id, principal)
    if segment_id is not None and segment_id not in config.segment_ids:
        raise NotFound(f"segment {segment_id} not found in assignment {assignment_id}")
    queue = AssignmentQueue(res.redis, assignment_id)
    a = config.assignment
    repairs = barred = 0
    while repairs < MAX_REPAIRS and barred < MAX_BARRED:
        now = res.clock()
        stopped = config.stopped(now)
        if stopped is not None:
            metrics.CONTACT_BARS.labels(Bar.stale_register).inc()
            return _stopped_out(stopped)
        hours = config.calling_hours(now)
        result, previous = await queue.claim_tracked(
            user_id=principal.user_id,
            lease_seconds=a.lease_seconds,
            segment=str(segment_id) if segment_id else "",
            personal_first=a.personal_followups_first,
            open_time_zones=hours.open_time_zones,
            openings=hours.openings,
            hold_followups=hours.hold_followups,
            now=int(now.timestamp() * 1000),
        )
        if previous is not None:
            left = await AssignmentQueue(res.redis, previous).release_agent(principal.user_id)
            if left is not None:
                await publish_eligible(res.redis, previous)
        if isinstance(result, Empty):
            metrics.NEXT_LATENCY.observe(time.perf_counter() - started)
            return _empty_out(result)
        row = await res.store.read_card(result.customer_id, tenant_id=principal.tenant_id)
        if row is None or row[0].assignment_id != assignment_id:
            metrics.QUEUE_REPAIRS.inc()
            repairs += 1
            await queue.remove([result.customer_id])
            continue
        membership, customer = row
        if result.source == "current":
            # A current customer in a final state is a lease that outlived its holder's
            # outcome: a rebuild (decision 030) that read the database just before the outcome
            # committed gives the lease back after the outcome's settle ended it (decision 032).
            if config.facts(membership, customer).state_kind == "final":
                metrics.QUEUE_REPAIRS.inc()
                repairs += 1
                await _replace(res, queue, membership, customer, config, result, principal.user_id)
                continue
        else:
            bar = config.bar(customer)
            if bar is not None:
                # Never served (rule 34): waits as blocked until the bar is lifted.
                metrics.CONTACT_BARS.labels(bar).inc()
                barred += 1
                await _replace(res, queue, membership, customer, config, result, principal.user_id)
                continue
            if not _servable(membership, customer, config, now):
                metrics.QUEUE_REPAIRS.inc()
                repairs += 1
                await _replace(res, queue, membership, customer, config, result, principal.user_id)
                continue
        metrics.CLAIMS.labels(result.source).inc()
        metrics.NEXT_LATENCY.observe(time.perf_counter() - started)
        metrics.followup_served(result.source, membership.followup_at, now)
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
    membership: MembershipRecord, customer: CustomerView, config: AssignmentConfig, now: datetime
) -> bool:
    """Does the database agree that this customer may be served now?"""
    facts = config.facts(membership, customer)
    place = compute_placement(facts, now_ms=int(now.timestamp() * 1000))
    followup = place.kind in ("sfu", "pfu")
    # Outside the customer's calling rules only a promised call-back the assignment lets
    # break them may be served (rule 33).
    may_break = followup and config.assignment.callbacks_break_rules
    if (
        config.calling is not None
        and not may_break
        and not config.calling.status(place.tz, now).open
    ):
        return False
    if place.kind == "free":
        return True
    if followup:
        return place.due_ms is not None and place.due_ms <= int(now.timestamp() * 1000) + 1000
    return False


async def _replace(
    res: Resources,
    queue: AssignmentQueue,
    membership: MembershipRecord,
    customer: CustomerView,
    config: AssignmentConfig,
    claimed: Claimed,
    user_id: int,
) -> None:
    """Put a customer where the database says it belongs, ending the lease just taken."""
    facts = config.facts(membership, customer, bars=customer.bars)
    await queue.settle(
        customer.id,
        user_id=user_id,
        lease_token=claimed.lease_token,
        placement=compute_placement(facts, now_ms=int(time.time() * 1000)),
    )


def _stopped_out(reason: str) -> EmptyOut:
    """No claim at all: the assignment may not dial (a stale register)."""
    return EmptyOut(
        reasons=Reasons(
            held=0,
            cooldown=0,
            outside_hours=0,
            blocked=0,
            at_attempt_limit=0,
            waiting_followups=0,
            none_left=False,
        ),
        next_eligible_at=None,
        stopped=reason,
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
