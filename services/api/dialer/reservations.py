"""A dialer reserves customers (rule 36): the claim /next makes, up to N at once, each leased
to the dialer for `dial_reservation_seconds`; a customer the database disagrees with is
repaired and not handed out, as /next does."""

from datetime import UTC, datetime

from services.api.assignments.cache import AssignmentConfig
from services.api.auth.cache import Principal
from services.api.dialer.ids import dial_id_of
from services.api.dialer.schemas import Reservation, ReservationsOut
from services.api.errors import Conflict
from services.api.resources import Resources
from services.api.work.common import config_for
from services.api.work.next_customer import _empty_out, _replace, _servable
from services.queue import AssignmentQueue, Claimed, DialFloor, Empty
from shared.contact.bars import Bar
from shared.infra import metrics
from shared.models import PresentationMode

# Rounds of reserve-and-check when the database disagrees with the queue (as /next's repairs).
MAX_REPAIRS = 3


async def dialed_config(
    res: Resources, principal: Principal, assignment_id: int
) -> AssignmentConfig:
    """The assignment, if the caller may see it and a dialer starts its calls."""
    config = await config_for(res, assignment_id, principal)
    mode = PresentationMode(config.assignment.presentation_mode)
    if not mode.dialed:
        raise Conflict(
            f"assignment {assignment_id} is in preview mode: its agents take and dial",
            code="assignment_not_dialed",
        )
    return config


async def reserve(
    res: Resources, principal: Principal, assignment_id: int, count: int
) -> ReservationsOut:
    config = await dialed_config(res, principal, assignment_id)
    queue = AssignmentQueue(res.redis, assignment_id)
    floor = DialFloor(queue)
    kept: list[Reservation] = []
    empty: Empty | None = None
    for _ in range(MAX_REPAIRS):
        now = res.clock()
        stopped = config.stopped(now)
        if stopped is not None:
            # A stale do-not-call register stops every dial of the tenant (rule 34), as /next.
            metrics.CONTACT_BARS.labels(Bar.stale_register).inc()
            raise Conflict(stopped, code="register_stale")
        hours = config.calling_hours(now)
        found = await floor.reserve(
            dialer_id=principal.user_id,
            count=count - len(kept),
            lease_seconds=res.settings.dial_reservation_seconds,
            open_time_zones=hours.open_time_zones,
            openings=hours.openings,
            hold_followups=hours.hold_followups,
            now=int(now.timestamp() * 1000),
        )
        if isinstance(found, Empty):
            empty = found
            break
        repaired = 0
        for claimed in found:
            reservation = await _checked(res, principal, config, queue, claimed, now)
            if reservation is None:
                repaired += 1
            else:
                kept.append(reservation)
        if repaired == 0 or len(kept) == count:
            break
    metrics.DIALS_RESERVED.inc(len(kept))
    if kept or empty is None:
        return ReservationsOut(reservations=kept, reasons=None, next_eligible_at=None)
    why = _empty_out(empty)
    return ReservationsOut(
        reservations=[], reasons=why.reasons, next_eligible_at=why.next_eligible_at
    )


async def _checked(
    res: Resources,
    principal: Principal,
    config: AssignmentConfig,
    queue: AssignmentQueue,
    claimed: Claimed,
    now: datetime,
) -> Reservation | None:
    """The reservation, if the database agrees the customer may be dialed now; else the
    customer is put where the database says and None."""
    row = await res.store.read_card(claimed.customer_id, tenant_id=principal.tenant_id)
    if row is None or row[0].assignment_id != queue.assignment_id:
        metrics.QUEUE_REPAIRS.inc()
        await queue.remove([claimed.customer_id])
        return None
    membership, customer = row
    bar = config.bar(customer)
    if bar is not None:
        # Never dialed (rule 34): waits as blocked until the bar is lifted, as /next does.
        metrics.CONTACT_BARS.labels(bar).inc()
        await _replace(res, queue, membership, customer, config, claimed, principal.user_id)
        return None
    if not _servable(membership, customer, config, now):
        metrics.QUEUE_REPAIRS.inc()
        await _replace(res, queue, membership, customer, config, claimed, principal.user_id)
        return None
    return Reservation(
        dial_id=dial_id_of(queue.assignment_id, claimed.customer_id, claimed.lease_token),
        customer_id=claimed.customer_id,
        phones=customer.phones,
        time_zone=config.facts(membership, customer).time_zone,
        source=claimed.source,
        expires_at=datetime.fromtimestamp(claimed.lease_expires_ms / 1000, UTC),
    )
