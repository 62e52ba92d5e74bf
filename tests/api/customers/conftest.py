"""Two tenants with an assignment each, and an HTTP helper for imports into them."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.app import create_app
from shared.infra.settings import Settings
from shared.models import Assignment
from tests.api.orgs import Org, make_org
from tests.factories import create_assignment, create_flow

# The row count above which the "small_inline" app queues an import for the worker.
SMALL_INLINE_MAX_ROWS = 3


@dataclass
class Importer:
    """A tenant (users by role) and its assignment."""

    org: Org
    assignment: Assignment

    @property
    def path(self) -> str:
        return f"/v1/assignments/{self.assignment.id}/imports"

    async def csv(self, payload: bytes, *, role: str = "setup", **params: Any) -> httpx.Response:
        headers = {**self.org.auth(role), "Content-Type": "text/csv"}
        return await self.org.client.post(
            self.path, content=payload, headers=headers, params=params
        )

    async def json(self, rows: Any, *, role: str = "setup") -> httpx.Response:
        return await self.org.post(self.path, rows, role=role)

    async def poll(self, import_id: int, **params: Any) -> httpx.Response:
        return await self.org.get(f"/v1/imports/{import_id}", role="setup", **params)


async def make_importer(client: httpx.AsyncClient, session: AsyncSession, name: str) -> Importer:
    org = await make_org(client, session, name=name)
    flow = await create_flow(session, org.tenant)
    assignment = await create_assignment(session, org.tenant, flow, name=f"{name} calls")
    return Importer(org, assignment)


@pytest.fixture
async def acme(client: httpx.AsyncClient, session: AsyncSession) -> Importer:
    return await make_importer(client, session, "Acme")


@pytest.fixture
async def globex(client: httpx.AsyncClient, session: AsyncSession) -> Importer:
    return await make_importer(client, session, "Globex")


@pytest.fixture
def small_inline_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_inline_max_rows": SMALL_INLINE_MAX_ROWS})


@pytest.fixture
async def small_inline_client(
    small_inline_settings: Settings, redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    """An API that imports at most SMALL_INLINE_MAX_ROWS rows inline."""
    app = create_app(small_inline_settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def big(small_inline_client: httpx.AsyncClient, session: AsyncSession) -> Importer:
    """Acme, calling the API whose inline limit is small."""
    return await make_importer(small_inline_client, session, "Acme")
