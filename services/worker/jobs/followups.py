"""followups.fall_back: personal follow-ups passed by more than an assignment's limit become
shared, so that a colleague calls the customer instead of nobody (rule 22, option off by
default). The scheduler runs it periodically; it is idempotent."""

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.queue.broadcast import publish_eligible
from shared.membership.events import event_of
from shared.membership.followups import fall_back
from shared.membership.moving import flow_of
from shared.membership.placement import load_queue_facts
from shared.membership.record import record_of, store_into
from shared.models import Assignment, FollowUpKind, Membership

BATCH_SIZE = 1000


async def fall_back_passed_followups(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    now: datetime | None = None,
) -> int:
    """Turn over-passed personal follow-ups into shared ones; returns how many."""
    now = now or datetime.now(UTC)
    turned = 0
    async with sessionmaker() as session:
        assignments = list(
            await session.scalars(
                select(Assignment).where(
                    Assignment.active.is_(True),
                    Assignment.personal_followup_fallback_minutes.is_not(None),
                )
            )
        )
        for assignment in assignments:
            minutes = assignment.personal_followup_fallback_minutes or 0
            cutoff = now - timedelta(minutes=minutes)
            while True:
                memberships = list(
                    await session.scalars(
                        select(Membership)
                        .where(
                            Membership.assignment_id == assignment.id,
                            Membership.followup_kind == FollowUpKind.personal.value,
                            Membership.followup_at < cutoff,
                        )
                        .order_by(Membership.id)
                        .limit(BATCH_SIZE)
                    )
                )
                if not memberships:
                    break
                for m in memberships:
                    change = fall_back(record_of(m), after_minutes=minutes)
                    session.add(event_of(change.event, change.record, user_id=None))
                    store_into(m, change.record)
                await session.commit()
                ids = [m.customer_id for m in memberships]
                flow = await flow_of(session, assignment)
                queue = AssignmentQueue(redis, assignment.id)
                async for batch in load_queue_facts(session, assignment, flow, customer_ids=ids):
                    await queue.place_sources(batch)
                await publish_eligible(redis, assignment.id)
                turned += len(memberships)
    return turned
