"""retention.run: anonymise the customers whose retention policy has run out (issue 15
point 5, decision 034). The scheduler runs it about hourly on one replica; it is idempotent:
a customer anonymised once is never found again.

Each batch is one unit of work: its customers, their `anonymised` events and one entry in
the privacy log (the audit log's privacy category: how many, under which policy; no personal
data) commit together. A customer an agent holds right now is left for the next run.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue, keys
from shared.audit import Actor, AuditAction, record
from shared.infra.db import unit_of_work
from shared.models import Customer
from shared.privacy.anonymising import anonymise_customer
from shared.privacy.retention import Scope, inactive_customers, months_before, scopes

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# One replica runs it per interval; policies count in months, an hour late is nothing.
RETENTION_INTERVAL_S = 3600


@dataclass(frozen=True, slots=True)
class Batch:
    anonymised: list[tuple[int, int | None]]  # (customer id, assignment id)
    held: int


async def _held(redis: Redis, found: list[tuple[int, int | None]]) -> set[int]:
    """The customers among `found` an agent holds now: one read per assignment, as large as
    the agents at work there."""
    holding: set[int] = set()
    for assignment_id in {a for _, a in found if a is not None}:
        holding.update(await AssignmentQueue(redis, assignment_id).holders())
    return {customer_id for customer_id, _ in found if customer_id in holding}


async def _batch(
    session: AsyncSession,
    redis: Redis,
    scope: Scope,
    found: list[tuple[int, int | None]],
    *,
    cutoff: datetime,
    now: datetime,
) -> Batch:
    held = await _held(redis, found)
    wanted = {c: a for c, a in found if c not in held}
    customers = await session.scalars(
        select(Customer)
        .where(Customer.id.in_(wanted), Customer.anonymised_at.is_(None))
        .order_by(Customer.id)
        .with_for_update()
    )
    done = []
    for customer in customers:
        assignment_id = wanted[customer.id]
        await anonymise_customer(
            session,
            customer,
            assignment_id=assignment_id,
            user_id=None,
            now=now,
            by="retention",
            months=scope.months,
        )
        done.append((customer.id, assignment_id))
    if done:
        record(
            session,
            Actor(scope.tenant_id),
            AuditAction.retention_run,
            ("assignment", scope.assignment_id) if scope.assignment_id is not None else None,
            policy=scope.name,
            months=scope.months,
            cutoff=cutoff.isoformat(),
            anonymised=len(done),
            held_skipped=len(held),
        )
    return Batch(done, len(held))


async def apply_scope(
    scope: Scope,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    now: datetime,
) -> int:
    """Anonymise the scope's customers without activity for its months; how many."""
    cutoff = months_before(now, scope.months)
    after, total = 0, 0
    while True:
        async with unit_of_work(sessionmaker) as session:
            found = list(
                await inactive_customers(
                    session, scope, cutoff=cutoff, after_id=after, limit=BATCH_SIZE
                )
            )
            if not found:
                return total
            batch = await _batch(session, redis, scope, found, cutoff=cutoff, now=now)
        # After the commit, as the API does: the queues follow PostgreSQL.
        by_assignment: dict[int, list[int]] = {}
        for customer_id, assignment_id in batch.anonymised:
            if assignment_id is not None:
                by_assignment.setdefault(assignment_id, []).append(customer_id)
        for assignment_id, customer_ids in by_assignment.items():
            await AssignmentQueue(redis, assignment_id).remove(customer_ids)
        after = found[-1][0]
        total += len(batch.anonymised)


async def run_retention(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    now: datetime | None = None,
) -> int:
    """Every tenant's and assignment's policy applied; the customers anonymised."""
    at = now or datetime.now(UTC)
    async with sessionmaker() as session:
        found = await scopes(session)
    total = 0
    for scope in found:
        count = await apply_scope(scope, sessionmaker=sessionmaker, redis=redis, now=at)
        if count:
            log.info(
                "retention.anonymised tenant_id=%d policy=%s count=%d",
                scope.tenant_id,
                scope.name,
                count,
            )
        total += count
    return total


async def run_retention_once(
    *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, now_s: float
) -> int | None:
    """The run, if no replica ran it in this interval (SET NX); None when another did."""
    slot = int(now_s // RETENTION_INTERVAL_S)
    if not await redis.set(
        keys.once(f"retention:{slot}"), "1", nx=True, px=RETENTION_INTERVAL_S * 2000
    ):
        return None
    return await run_retention(sessionmaker=sessionmaker, redis=redis)
