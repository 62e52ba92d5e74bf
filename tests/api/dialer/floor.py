"""A tenant with a predictive assignment, three agents, a supervisor and a dialer's machine
token, for the dialer boundary's tests."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import streams
from shared.models import Assignment, Customer, Permission, PresentationMode, Tenant, User
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)

DIALER = [Permission.dialer.value]


@dataclass
class Floor:
    client: httpx.AsyncClient
    session: AsyncSession
    redis: Redis
    tenant: Tenant
    assignment: Assignment
    agents: list[tuple[User, str]]
    supervisor: tuple[User, str]
    dialer: tuple[User, str]

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def customers(self, rows: list[dict[str, Any]]) -> list[Customer]:
        return await add_customers(self.session, self.redis, self.assignment, rows)

    async def reserve(self, count: int = 1, *, token: str | None = None) -> httpx.Response:
        return await self.client.post(
            f"/v1/dialer/assignments/{self.assignment.id}/reservations",
            json={"count": count},
            headers=self.auth(token or self.dialer[1]),
        )

    async def dial_ids(self, count: int = 1) -> list[str]:
        r = await self.reserve(count)
        assert r.status_code == 200, r.text
        return [item["dial_id"] for item in r.json()["reservations"]]

    async def report(self, dial_id: str, result: str, **more: Any) -> httpx.Response:
        return await self.client.post(
            f"/v1/dialer/dials/{dial_id}/result",
            json={"result": result, **more},
            headers=self.auth(self.dialer[1]),
        )

    async def set_state(self, agent: int, state: str, **more: Any) -> httpx.Response:
        return await self.client.put(
            "/v1/me/state",
            json={"state": state, **more},
            headers=self.auth(self.agents[agent][1]),
        )

    async def ready(self, agent: int) -> None:
        r = await self.set_state(agent, "ready", assignment_id=self.assignment.id)
        assert r.status_code == 200, r.text

    async def state_of(self, agent: int) -> dict[str, Any]:
        r = await self.client.get("/v1/me/state", headers=self.auth(self.agents[agent][1]))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def heard(self, agent: int) -> list[dict[str, str]]:
        """The entries of the agent's live stream."""
        entries: Any = await self.redis.xrange(streams.user_stream(self.agents[agent][0].id))
        return [dict(fields) for _, fields in entries]


@pytest.fixture
async def floor(client: httpx.AsyncClient, session: AsyncSession, redis: Redis) -> Floor:
    tenant = await create_tenant(session)
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(
        session,
        tenant,
        flow,
        presentation_mode=PresentationMode.predictive.value,
        cooldown_seconds=3600,
    )
    agents = [await create_user(session, tenant, name=f"Agent {i}") for i in range(3)]
    supervisor = await create_user(
        session, tenant, name="Supervisor", permissions=[Permission.reporting.value]
    )
    dialer = await create_user(session, tenant, name="Dialer", permissions=DIALER)
    return Floor(client, session, redis, tenant, assignment, agents, supervisor, dialer)
