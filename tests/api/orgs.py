"""Tenants with one user per permission bundle, and an HTTP helper that calls as one of them.

Used by the admin API tests (users, flows, assignments, custom fields, blocked phones).
"""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Permission, Tenant, User
from tests.factories import create_tenant, create_user

ROLES: dict[str, list[str]] = {
    "admin": [Permission.administrator.value],
    "setup": [Permission.assignment_setup.value],
    "agent": [Permission.customer_handling.value],
    "reporter": [Permission.reporting.value],
}


@dataclass
class Org:
    """A tenant whose users are named by role: admin, setup, agent, reporter."""

    client: httpx.AsyncClient
    tenant: Tenant
    users: dict[str, User]
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, path: str, *, role: str = "admin", **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth(role))

    async def post(self, path: str, body: Any, *, role: str = "admin") -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.auth(role))

    async def patch(self, path: str, body: Any, *, role: str = "admin") -> httpx.Response:
        return await self.client.patch(path, json=body, headers=self.auth(role))

    async def delete(self, path: str, *, role: str = "admin") -> httpx.Response:
        return await self.client.delete(path, headers=self.auth(role))


async def make_org(client: httpx.AsyncClient, session: AsyncSession, *, name: str) -> Org:
    tenant = await create_tenant(session, name=name)
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    for role, permissions in ROLES.items():
        users[role], tokens[role] = await create_user(
            session, tenant, name=f"{name} {role}", permissions=permissions
        )
    return Org(client, tenant, users, tokens)


@pytest.fixture
async def acme(client: httpx.AsyncClient, session: AsyncSession) -> Org:
    """The caller's tenant."""
    return await make_org(client, session, name="Acme")


@pytest.fixture
async def globex(client: httpx.AsyncClient, session: AsyncSession) -> Org:
    """Another tenant, whose ids must answer 404 to acme (rule 1)."""
    return await make_org(client, session, name="Globex")
