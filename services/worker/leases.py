"""Leases copied to PostgreSQL behind the hot path, and given back after Redis lost them
(docs/decisions/030-redis-cluster-and-faults.md).

`/next` writes its lease to Redis only (DESIGN 4: the hot path never writes PostgreSQL). About
every LEASE_COPY_INTERVAL_S one worker replica copies every active assignment's leases into
`held_leases`; a rebuild of a queue Redis lost (`nextcall rebuild`, or the worker's recovery)
first gives back each copied lease that is still running and whose membership nobody wrote
since, so the customer stays with the agent who has it on screen.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue, ExpiringLease, keys, now_ms
from services.worker.epoch import queues_trusted
from shared.models import HeldLease, Membership

log = logging.getLogger(__name__)

# How often the leases are copied: a lease taken less than this before Redis is lost is not
# in the copy (the window decision 030 describes).
LEASE_COPY_INTERVAL_S = 1.0


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def copy_leases(
    assignment_ids: Sequence[int],
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    now: int | None = None,
) -> int | None:
    """Make `held_leases` what Redis holds now for these assignments, if no replica did in
    this interval; returns how many leases are held (None: another replica's turn, or the
    queues are not trusted: Redis lost them and the worker has not rebuilt them yet).

    A queue Redis lost keeps its copies: they are what a rebuild gives back.
    """
    at = now_ms() if now is None else now
    slot = int(at // (LEASE_COPY_INTERVAL_S * 1000))
    # A Redis that lost the queues (not rebuilt yet) lost their leases: the copies stay.
    if not await queues_trusted(redis):
        return None
    if not await redis.set(keys.once(f"leases:{slot}"), "1", nx=True, px=60_000):
        return None
    held: dict[int, list[ExpiringLease]] = {}
    for assignment_id in assignment_ids:
        leases = await AssignmentQueue(redis, assignment_id).held_leases()
        if leases is not None:
            held[assignment_id] = leases
    async with sessionmaker() as session, session.begin():
        await _write(session, held, now=at)
    return sum(len(leases) for leases in held.values())


async def _write(session: AsyncSession, held: dict[int, list[ExpiringLease]], *, now: int) -> None:
    copied = {
        row.customer_id: row
        for row in await session.scalars(
            select(HeldLease).where(HeldLease.assignment_id.in_(list(held)))
        )
    }
    current = {lease.customer_id: (a, lease) for a, leases in held.items() for lease in leases}
    # Ended in Redis (settled, released, expired, moved away).
    gone = [cid for cid in copied if cid not in current]
    if gone:
        await session.execute(delete(HeldLease).where(HeldLease.customer_id.in_(gone)))
    # New leases, and customers someone else holds now: with the membership's version now.
    changed = [
        cid
        for cid, (_, lease) in current.items()
        if cid not in copied or copied[cid].token != lease.lease_token
    ]
    found = await session.execute(
        select(Membership.customer_id, Membership.version).where(
            Membership.customer_id.in_(changed)
        )
    )
    versions = {cid: version for cid, version in found.all()}
    for cid, (assignment_id, lease) in current.items():
        row = copied.get(cid)
        if row is None:
            if cid in versions:
                row = HeldLease(customer_id=cid, assignment_id=assignment_id)
                session.add(row)
            else:
                continue
        if cid in versions:
            row.user_id, row.token, row.version = lease.user_id, lease.lease_token, versions[cid]
        expires = _at(lease.expires_ms)
        if row.expires_at != expires:
            row.expires_at = expires
    # Copies of queues Redis lost stay, but not past their end.
    await session.execute(delete(HeldLease).where(HeldLease.expires_at <= _at(now)))


async def restore_leases(session: AsyncSession, queue: AssignmentQueue, *, now: int) -> int:
    """Give the queue back its copied leases that still run on unchanged memberships (call
    it on a queue Redis lost, before placing it again); how many were given back."""
    rows = await session.execute(
        select(HeldLease)
        .join(
            Membership,
            and_(
                Membership.customer_id == HeldLease.customer_id,
                Membership.assignment_id == HeldLease.assignment_id,
                Membership.version == HeldLease.version,
            ),
        )
        .where(HeldLease.assignment_id == queue.assignment_id, HeldLease.expires_at > _at(now))
    )
    leases = [
        ExpiringLease(r.customer_id, r.user_id, r.token, int(r.expires_at.timestamp() * 1000))
        for r in rows.scalars()
    ]
    restored = await queue.restore_leases(leases, now=now) if leases else 0
    if restored:
        log.warning(
            "queue.leases_restored assignment_id=%d count=%d", queue.assignment_id, restored
        )
    return restored
