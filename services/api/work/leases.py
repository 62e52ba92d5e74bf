"""Holding a customer (rules 15-18): select, heartbeat, release and force-release."""

from datetime import UTC, datetime

from services.api.auth.cache import Principal
from services.api.errors import Conflict, Forbidden
from services.api.resources import Resources
from services.api.work.cards import card_out
from services.api.work.common import (
    config_for,
    lease_id_of,
    parse_lease_id,
    read_card,
    stale,
    user_name,
)
from services.api.work.schemas import CardOut, LeaseOut, ReleaseResult
from services.queue import AssignmentQueue, HeldByOther, NotHolder, NotInQueue
from services.queue.broadcast import publish_eligible
from shared.infra import metrics
from shared.models import CORRECTION_STATE, Event, EventKind, PresentationMode


async def select_customer(res: Resources, principal: Principal, customer_id: int) -> CardOut:
    membership, customer = await read_card(res, principal, customer_id)
    config = await config_for(res, membership.assignment_id, principal)
    mode = PresentationMode(config.assignment.presentation_mode)
    if mode.dialed:
        raise Forbidden(f"manual select is not allowed in a {mode.value} assignment")
    if membership.state == CORRECTION_STATE:
        raise Conflict("customer is waiting for a correction; it cannot be taken now")
    # Rule 34 holds for a chosen customer too: a register, the blocklist, consent.
    stopped = config.stopped(res.clock())
    if stopped is not None:
        raise Conflict(stopped, code="register_stale")
    bar = config.bar(customer)
    if bar is not None:
        metrics.CONTACT_BARS.labels(bar).inc()
        raise Conflict(f"customer must not be called ({bar.value})", code="contact_barred")
    queue = AssignmentQueue(res.redis, membership.assignment_id)
    try:
        claimed = await queue.select(
            customer_id, user_id=principal.user_id, lease_seconds=config.assignment.lease_seconds
        )
    except HeldByOther as exc:
        name = await user_name(res, principal.tenant_id, exc.holder_user_id)
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


async def heartbeat(
    res: Resources, principal: Principal, customer_id: int, *, lease_id: str
) -> LeaseOut:
    """Redis only: the lease id names its assignment, and Redis knows who holds what."""
    assignment_id, token = parse_lease_id(lease_id)
    config = await config_for(res, assignment_id, principal)
    queue = AssignmentQueue(res.redis, assignment_id)
    try:
        expiry = await queue.renew(
            customer_id,
            user_id=principal.user_id,
            lease_token=token,
            lease_seconds=config.assignment.lease_seconds,
        )
    except NotHolder as exc:
        raise await stale(res, principal, exc) from exc
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
        membership, _ = await read_card(res, principal, customer_id)
        await config_for(res, membership.assignment_id, principal)
        assignment_id, token = membership.assignment_id, ""
    else:
        # Redis only, like heartbeat: the lease id names the assignment.
        assignment_id, token = parse_lease_id(lease_id)
        await config_for(res, assignment_id, principal)
    queue = AssignmentQueue(res.redis, assignment_id)
    try:
        holder = await queue.release(
            customer_id, user_id=principal.user_id, lease_token=token, force=force
        )
    except NotHolder as exc:
        if force:
            raise Conflict("nobody holds this customer") from exc
        raise await stale(res, principal, exc) from exc
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
