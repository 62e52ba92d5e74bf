"""Rule 22: a personal follow-up passed by more than N minutes falls back to shared."""

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.worker.jobs.followups import fall_back_passed_followups
from shared.models import Event, Membership
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
    place_all,
)


class TestFallBack:
    async def test_only_follow_ups_passed_by_more_than_n_minutes_fall_back(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> None:
        tenant = await create_tenant(session)
        flow = await create_flow(session, tenant)
        assignment = await create_assignment(
            session, tenant, flow, personal_followup_fallback_minutes=30
        )
        owner, _ = await create_user(session, tenant)
        c = await add_customers(session, redis, assignment, [{}, {}])
        now = datetime.now(UTC)
        for customer, passed in ((c[0], 45), (c[1], 10)):
            await session.execute(
                update(Membership)
                .where(Membership.customer_id == customer.id)
                .values(
                    state="interested",
                    followup_kind="personal",
                    followup_owner_id=owner.id,
                    followup_at=now - timedelta(minutes=passed),
                )
            )
        await session.commit()
        await place_all(session, redis, assignment)

        assert await fall_back_passed_followups(sessionmaker=sessionmaker, redis=redis) == 1

        kinds = dict(
            (
                await session.execute(
                    select(Membership.customer_id, Membership.followup_kind).execution_options(
                        populate_existing=True
                    )
                )
            ).all()
        )
        assert kinds == {c[0].id: "shared", c[1].id: "personal"}
        placement = await AssignmentQueue(redis, assignment.id).placement_of(c[0].id)
        assert placement is not None and placement.kind == "sfu"
        event = await session.scalar(select(Event).where(Event.kind == "followup_fell_back"))
        assert event is not None and event.data["former_owner_id"] == owner.id
        # Idempotent: nothing more to do.
        assert await fall_back_passed_followups(sessionmaker=sessionmaker, redis=redis) == 0

    async def test_off_by_default(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> None:
        tenant = await create_tenant(session)
        flow = await create_flow(session, tenant)
        assignment = await create_assignment(session, tenant, flow)
        owner, _ = await create_user(session, tenant)
        c = await add_customers(session, redis, assignment, [{}])
        await session.execute(
            update(Membership)
            .where(Membership.customer_id == c[0].id)
            .values(
                state="interested",
                followup_kind="personal",
                followup_owner_id=owner.id,
                followup_at=datetime.now(UTC) - timedelta(days=3),
            )
        )
        await session.commit()
        assert await fall_back_passed_followups(sessionmaker=sessionmaker, redis=redis) == 0
