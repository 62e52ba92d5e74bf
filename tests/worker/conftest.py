"""A tenant, the seeds' flow and one assignment whose customers can be put in any state."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import AssignmentQueue
from shared.demo import SEED_FLOW
from shared.flows import FlowSpec
from shared.membership.placement import load_queue_facts
from shared.models import Assignment, Customer, Flow, Membership, Tenant, User
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)

# A fixed "now": queues are placed and swept at virtual times, never by sleeping.
NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


@dataclass
class Campaign:
    session: AsyncSession
    redis: Redis
    tenant: Tenant
    flow: Flow
    assignment: Assignment
    agent: User

    @property
    def queue(self) -> AssignmentQueue:
        return AssignmentQueue(self.redis, self.assignment.id)

    async def customers(self, count: int, **row: Any) -> list[Customer]:
        start = await self._next_index()
        rows = [{**row, "external_id": f"c-{start + i}"} for i in range(count)]
        return await add_customers(self.session, self.redis, self.assignment, rows)

    async def _next_index(self) -> int:
        return int(await self.session.scalar(select(func.count(Customer.id))) or 0)

    async def set_membership(self, customer: Customer, **values: Any) -> None:
        """Change a membership in the database (as an outcome would) and re-place everyone."""
        await self.session.execute(
            update(Membership).where(Membership.customer_id == customer.id).values(**values)
        )
        await self.session.commit()
        await self.place(now=NOW_MS)

    async def place(self, *, now: int) -> None:
        spec = FlowSpec.model_validate(SEED_FLOW)
        async for batch in load_queue_facts(self.session, self.assignment, spec):
            await self.queue.place_sources(batch, now=now)


@pytest.fixture
async def campaign(session: AsyncSession, redis: Redis) -> Campaign:
    tenant = await create_tenant(session)
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(
        session,
        tenant,
        flow,
        cooldown_seconds=600,
        attempt_limit=3,
        attempt_limit_action="stop",
        sort_keys=[
            {"key": "attempts", "direction": "asc"},
            {"key": "last_attempt_at", "direction": "asc"},
        ],
    )
    agent, _token = await create_user(session, tenant)
    return Campaign(session, redis, tenant, flow, assignment, agent)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def ahead(**delta: float) -> datetime:
    return NOW + timedelta(**delta)
