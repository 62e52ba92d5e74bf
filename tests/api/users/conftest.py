"""Two tenants: the caller's (acme) and another (globex) whose ids must answer 404 (rule 1)."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.orgs import Org, make_org


@pytest.fixture
async def acme(client: httpx.AsyncClient, session: AsyncSession) -> Org:
    return await make_org(client, session, name="Acme")


@pytest.fixture
async def globex(client: httpx.AsyncClient, session: AsyncSession) -> Org:
    return await make_org(client, session, name="Globex")
