"""blocklist.lift: blocklist entries whose expiry passed are removed, and the customers they
barred are placed again (rule 34). A claim already ignores an expired entry; this brings the
customers back from where they wait as blocked. The scheduler runs it; it is idempotent."""

import logging
from collections import defaultdict
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from shared.contact.affected import affected_by
from shared.infra.clock import utc_now
from shared.membership.moving import flow_of
from shared.membership.placement import load_queue_facts
from shared.models import Assignment, BlockedPhone

log = logging.getLogger(__name__)

BATCH_SIZE = 1000


async def lift_expired_blocks(
    *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, now: datetime | None = None
) -> int:
    """Remove the expired entries (a batch at most) and re-place their customers; returns
    how many entries were removed."""
    at = now or utc_now()
    async with sessionmaker() as session:
        expired = (
            await session.execute(
                select(BlockedPhone.id, BlockedPhone.tenant_id, BlockedPhone.phone)
                .where(BlockedPhone.expires_at <= at)
                .order_by(BlockedPhone.id)
                .limit(BATCH_SIZE)
            )
        ).all()
        if not expired:
            return 0
        await session.execute(
            delete(BlockedPhone).where(BlockedPhone.id.in_([e[0] for e in expired]))
        )
        await session.commit()
        phones: defaultdict[int, set[str]] = defaultdict(set)
        for _, tenant_id, phone in expired:
            phones[tenant_id].add(phone)
        for tenant_id, numbers in phones.items():
            for assignment_id, ids in (await affected_by(session, tenant_id, numbers)).items():
                assignment = await session.get(Assignment, assignment_id)
                if assignment is None:
                    continue
                flow = await flow_of(session, assignment)
                queue = AssignmentQueue(redis, assignment_id)
                async for batch in load_queue_facts(session, assignment, flow, customer_ids=ids):
                    await queue.place_sources(batch)
                await publish_eligible(redis, assignment_id)
    log.info("blocklist.lifted entries=%d", len(expired))
    return len(expired)
