"""A tenant with the seeds' flow, one assignment and three agents, for the work endpoints."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Assignment, Customer, Flow, Permission, Tenant, User
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)


@dataclass
class World:
    client: httpx.AsyncClient
    session: AsyncSession
    redis: Redis
    tenant: Tenant
    flow: Flow
    assignment: Assignment
    agents: list[tuple[User, str]]
    supervisor: tuple[User, str]

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def next(self, agent: int = 0, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/v1/assignments/{self.assignment.id}/next",
            json=body or None,
            headers=self.auth(self.agents[agent][1]),
        )

    async def post(self, path: str, agent: int = 0, **body: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.auth(self.agents[agent][1]))

    async def customers(self, rows: list[dict[str, Any]], **kw: Any) -> list[Customer]:
        return await add_customers(self.session, self.redis, self.assignment, rows, **kw)


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession, redis: Redis) -> World:
    tenant = await create_tenant(session)
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(session, tenant, flow, cooldown_seconds=0)
    agents = [await create_user(session, tenant, name=f"Agent {i}") for i in range(3)]
    supervisor = await create_user(
        session,
        tenant,
        name="Supervisor",
        permissions=[Permission.customer_handling.value, Permission.extended_handling.value],
    )
    return World(client, session, redis, tenant, flow, assignment, agents, supervisor)


async def streamed(content: bytes, chunk: int = 65536) -> AsyncIterator[bytes]:
    """A request body sent in chunks, without a Content-Length."""
    for start in range(0, len(content), chunk):
        yield content[start : start + chunk]
