"""Bulk outcome on a selection (rule 28): what the selection counts, which outcomes every
selected customer allows, the checks that keep a bulk outcome all or nothing, and the write.

The API applies small selections inline and the worker large ones; both run these steps in
one database transaction, so a refusal at any point leaves nothing written. The queue is a
Protocol here because shared/ imports nothing from services/ (DESIGN 4); the callers hand in
services.queue.AssignmentQueue.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from shared.errors import Conflict, Unprocessable
from shared.flows import FlowOutcome, FlowSpec
from shared.membership.events import event_of
from shared.membership.outcomes import bulk_outcome as rule
from shared.membership.placement import QueueFacts, load_queue_facts
from shared.membership.record import record_of, store_into
from shared.models import CORRECTION_STATE, Assignment, Customer, Event, Membership
from shared.selections.selection import Selection

# Memberships written per flush, and customers re-placed per queue call: bounds memory and
# the size of one IN list, whatever the size of the selection.
BATCH_SIZE = 1000
SET_BY = "bulk"


class BulkQueue(Protocol):
    """What a bulk outcome needs of an assignment's queue (services.queue.AssignmentQueue)."""

    async def holders(self) -> dict[int, int]: ...

    async def place_sources(
        self, sources: Iterable[QueueFacts], *, now: int | None = None
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class SelectionCounts:
    total: int
    by_state: dict[str, int]
    by_segment: dict[int | None, int]


@dataclass(frozen=True, slots=True)
class Offered:
    """An outcome valid from every state of a selection."""

    code: str
    name: str
    # None when the flow sends different states to different places under one code.
    to_state: str | None
    follow_up: str
    follow_up_time_required: bool


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """One bulk outcome: who applies which code to which selection, and what events carry."""

    tenant_id: int
    user_id: int
    selection: Selection
    code: str
    comment: str = ""
    follow_up_at: datetime | None = None
    event_data: Mapping[str, Any] = field(default_factory=dict)


async def selection_counts(
    session: AsyncSession, tenant_id: int, selection: Selection
) -> SelectionCounts:
    """How many customers the selection holds, per state and per segment: one aggregate."""
    rows = await session.execute(
        select(Membership.state, Membership.segment_id, func.count())
        .select_from(Membership)
        .join(Customer, Customer.id == Membership.customer_id)
        .where(selection.where(tenant_id))
        .group_by(Membership.state, Membership.segment_id)
    )
    by_state: dict[str, int] = {}
    by_segment: dict[int | None, int] = {}
    for state, segment_id, count in rows:
        by_state[state] = by_state.get(state, 0) + int(count)
        by_segment[segment_id] = by_segment.get(segment_id, 0) + int(count)
    return SelectionCounts(sum(by_state.values()), by_state, by_segment)


def _outcomes_from(flow: FlowSpec, code: str, states: Iterable[str]) -> list[FlowOutcome] | None:
    """The flow's outcome `code` from each state, or None when some state does not allow it."""
    found = [flow.outcome(code, state) for state in states]
    if any(o is None for o in found):
        return None
    return [o for o in found if o is not None]


def offered_outcomes(flow: FlowSpec, states: Iterable[str]) -> list[Offered]:
    """The outcomes allowed from every one of `states`, in the flow's order.

    None for an empty selection; none when a customer waits in correction, whose state lies
    outside every flow (so flow.outcome never allows anything from it).
    """
    present = sorted(set(states))
    if not present:
        return []
    offered: list[Offered] = []
    for code in dict.fromkeys(o.code for o in flow.outcomes):
        outcomes = _outcomes_from(flow, code, present)
        if not outcomes:
            continue
        targets = {o.to_state for o in outcomes}
        offered.append(
            Offered(
                code=code,
                name=outcomes[0].name,
                to_state=targets.pop() if len(targets) == 1 else None,
                follow_up=outcomes[0].follow_up.value,
                follow_up_time_required=any(o.follow_up_time_required for o in outcomes),
            )
        )
    return offered


def nothing_offered_reason(states: Iterable[str], offered: list[Offered]) -> str | None:
    """Why a selection offers no outcome, in words for the user; None when it offers some."""
    present = set(states)
    if offered:
        return None
    if not present:
        return "the selection is empty"
    if CORRECTION_STATE in present:
        return (
            f"some customers wait in correction ('{CORRECTION_STATE}'), where no outcome "
            "can be registered in bulk"
        )
    return "no outcome of the flow is allowed from every state in the selection"


def refusing_states(flow: FlowSpec, code: str, states: Iterable[str]) -> list[str]:
    """The states of the selection from which `code` is not allowed."""
    return sorted(s for s in set(states) if flow.outcome(code, s) is None)


async def check(
    session: AsyncSession,
    queue: BulkQueue,
    flow: FlowSpec,
    bulk: BulkOutcome,
    *,
    expected_count: int | None,
) -> SelectionCounts:
    """Refuse, before anything is written, a bulk outcome that could not apply to everyone."""
    if not flow.has_outcome(bulk.code):
        raise Unprocessable(f"unknown outcome '{bulk.code}'")
    counts = await selection_counts(session, bulk.tenant_id, bulk.selection)
    if counts.total == 0:
        raise Unprocessable("the selection is empty: there is nothing to apply the outcome to")
    if expected_count is not None and expected_count != counts.total:
        raise Conflict(
            f"the selection holds {counts.total} customers now, not {expected_count}; "
            "nothing was written",
            count=counts.total,
        )
    refusing = refusing_states(flow, bulk.code, counts.by_state)
    if refusing:
        raise Unprocessable(
            f"outcome '{bulk.code}' is not allowed from state(s) {', '.join(refusing)} "
            "in the selection; nothing was written",
            states=refusing,
        )
    outcomes = _outcomes_from(flow, bulk.code, counts.by_state) or []
    if bulk.follow_up_at is None and any(o.follow_up_time_required for o in outcomes):
        raise Unprocessable(f"outcome '{bulk.code}' needs a follow-up time ('follow_up_at')")
    held = await held_customers(session, queue, bulk)
    if held:
        raise Conflict(
            f"{len(held)} selected customer(s) are held by an agent now; nothing was written",
            held=held,
        )
    return counts


async def held_customers(
    session: AsyncSession, queue: BulkQueue, bulk: BulkOutcome
) -> list[dict[str, int]]:
    """Selected customers an agent holds now, with the holder: the queue's holders (as many
    as agents at work) checked against the selection in one query."""
    holders = await queue.holders()
    if not holders:
        return []
    selected = await session.scalars(
        select(Membership.customer_id)
        .join(Customer, Customer.id == Membership.customer_id)
        .where(bulk.selection.where(bulk.tenant_id), Membership.customer_id.in_(list(holders)))
        .order_by(Membership.customer_id)
    )
    return [{"customer_id": cid, "user_id": holders[cid]} for cid in selected]


async def load_batch(
    session: AsyncSession, bulk: BulkOutcome, *, after_id: int, limit: int
) -> list[Membership]:
    """The next selected memberships by id, read inside the writing transaction: their
    versions are the ones the write will be checked against."""
    return list(
        await session.scalars(
            select(Membership)
            .join(Customer, Customer.id == Membership.customer_id)
            .where(bulk.selection.where(bulk.tenant_id), Membership.id > after_id)
            .order_by(Membership.id)
            .limit(limit)
        )
    )


async def write_batch(
    session: AsyncSession,
    flow: FlowSpec,
    bulk: BulkOutcome,
    memberships: list[Membership],
    *,
    now: datetime,
) -> list[int]:
    """Apply the outcome to each membership and record one outcome event per customer.

    Each write is checked against the version read (the ORM's version_id_col): a customer an
    agent changed since raises Conflict, and the caller rolls the whole transaction back.
    """
    events: list[Event] = []
    for m in memberships:
        change = rule(
            record_of(m),
            flow,
            bulk.code,
            user_id=bulk.user_id,
            now=now,
            follow_up_at=bulk.follow_up_at,
            comment=bulk.comment,
            event_data=bulk.event_data,
            set_by=SET_BY,
        )
        store_into(m, change.record)
        events.append(event_of(change.event, change.record, user_id=bulk.user_id, created_at=now))
    session.add_all(events)
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict(
            "a selected customer changed while the bulk outcome was written (an agent "
            "registered something); nothing was written"
        ) from exc
    # Written (inside the transaction): let the batch go, so memory stays flat.
    for obj in [*memberships, *events]:
        session.expunge(obj)
    return [m.customer_id for m in memberships]


async def write_all(
    session: AsyncSession,
    flow: FlowSpec,
    bulk: BulkOutcome,
    *,
    expected: int,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> list[int]:
    """Write the outcome for every selected customer, in batches of one transaction; the
    caller commits. Refuses (and the caller rolls back) when the selection no longer holds
    `expected` customers."""
    written: list[int] = []
    last_id = 0
    while batch := await load_batch(session, bulk, after_id=last_id, limit=batch_size):
        last_id = batch[-1].id
        written += await write_batch(session, flow, bulk, batch, now=now)
        if progress is not None:
            await progress(len(written))
    if len(written) != expected:
        raise Conflict(
            f"the selection changed: {len(written)} customers now, {expected} when checked; "
            "nothing was written",
            count=len(written),
        )
    return written


async def replace(
    session: AsyncSession,
    queue: BulkQueue,
    assignment: Assignment,
    flow: FlowSpec,
    customer_ids: list[int],
    *,
    batch_size: int = BATCH_SIZE,
) -> None:
    """After the commit: put the customers where their new facts say, in batches."""
    for start in range(0, len(customer_ids), batch_size):
        part = customer_ids[start : start + batch_size]
        async for facts in load_queue_facts(session, assignment, flow, customer_ids=part):
            await queue.place_sources(facts)
