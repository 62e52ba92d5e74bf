"""Two real API processes shared by this package's tests, with small limits to reach."""

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.settings import Settings
from shared.models import Permission, Tenant, User
from tests.api.api_process import ApiProcess, start_apis
from tests.factories import create_tenant, create_user

ORIGIN = "https://crm.example.com"
SEARCHES_PER_MINUTE = 10
FAILURES_PER_TOKEN = 5
FAILURES_PER_ADDRESS = 20
ENV = {
    "NEXTCALL_CORS_ALLOWED_ORIGINS": ORIGIN,
    "NEXTCALL_RATE_LIMIT_SEARCH": f"{SEARCHES_PER_MINUTE}/minute",
    "NEXTCALL_RATE_LIMIT_AUTH_FAILURES_PER_TOKEN": f"{FAILURES_PER_TOKEN}/minute",
    "NEXTCALL_RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS": f"{FAILURES_PER_ADDRESS}/minute",
}


@pytest.fixture(scope="package")
def apis(
    settings: Settings, migrated: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ApiProcess]]:
    started = start_apis(settings, tmp_path_factory.mktemp("apis"), ENV, count=2)
    yield started
    for api in started:
        api.stop()


@dataclass
class Callers:
    tenant: Tenant
    admin: User
    admin_token: str
    agent: User
    agent_token: str


@pytest.fixture
async def callers(session: AsyncSession) -> Callers:
    tenant = await create_tenant(session)
    admin, admin_token = await create_user(
        session, tenant, name="Admin", permissions=[Permission.administrator.value]
    )
    agent, agent_token = await create_user(session, tenant, name="Agent")
    return Callers(tenant, admin, admin_token, agent, agent_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get(api: ApiProcess, path: str, token: str, **params: str) -> httpx.Response:
    return httpx.get(f"{api.url}{path}", params=params, headers=bearer(token), timeout=10)
