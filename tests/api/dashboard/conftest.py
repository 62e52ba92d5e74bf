"""A tenant with one assignment of customers, a supervisor, an agent, and a browser-like
client that signs in to the dashboard with a token (cookies kept between requests)."""

import re
from dataclasses import dataclass

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Assignment, Customer, Permission, Tenant
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)

SUPERVISOR = [Permission.reporting.value, Permission.extended_handling.value]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no form token on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Open the sign-in page, then send the token with the page's form token."""
    page = await client.get("/dashboard")
    return await client.post(
        "/dashboard/sign-in", data={"token": token, "csrf": form_token(page.text)}
    )


@dataclass
class Desk:
    tenant: Tenant
    assignment: Assignment
    customers: list[Customer]
    supervisor_token: str
    agent_token: str
    agent_id: int

    def agent(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.agent_token}"}


async def make_desk(session: AsyncSession, redis: Redis, *, name: str = "Acme") -> Desk:
    tenant = await create_tenant(session, name=name)
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(
        session, tenant, flow, name=f"{name} autumn campaign", cooldown_seconds=0
    )
    customers = await add_customers(
        session, redis, assignment, [{"external_id": f"{name}-{i}"} for i in range(5)]
    )
    _, supervisor = await create_user(
        session, tenant, name=f"{name} supervisor", permissions=SUPERVISOR
    )
    agent, agent_token = await create_user(session, tenant, name=f"{name} agent")
    return Desk(tenant, assignment, customers, supervisor, agent_token, agent.id)


@pytest.fixture
async def desk(session: AsyncSession, redis: Redis) -> Desk:
    return await make_desk(session, redis)
