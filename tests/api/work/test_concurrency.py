"""Rule 11 under load: 200 agents over real HTTP empty an assignment; each customer once."""

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.settings import Settings
from shared.infra.tokens import hash_token, new_token
from shared.models import ApiToken, User
from tests.factories import add_customers, create_assignment, create_flow, create_tenant
from tests.net import free_port

AGENTS = 200
CUSTOMERS = 1000


@pytest.fixture
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real API in its own process, with two uvicorn workers."""
    port = free_port()
    env = {
        **os.environ,
        "NEXTCALL_DATABASE_URL": settings.database_url,
        "NEXTCALL_REDIS_URL": settings.redis_url,
        "NEXTCALL_DATA_DIR": str(tmp_path_factory.mktemp("api")),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            # Longer than any pause of the test, so no pooled connection is closed under it.
            "--timeout-keep-alive",
            "120",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("the API did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


async def _agent(client: httpx.AsyncClient, path: str, token: str) -> list[int]:
    served: list[int] = []
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(10_000):
        r = await client.post(path, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] == "empty":
            if body["reasons"]["none_left"]:
                return served
            await asyncio.sleep(0.05)  # colleagues still hold customers: ask again
            continue
        customer_id = body["customer"]["id"]
        served.append(customer_id)
        w = await client.post(
            f"/v1/customers/{customer_id}/outcomes",
            headers=headers,
            json={
                "lease_id": body["lease"]["id"],
                "version": body["membership"]["version"],
                "code": "not_interested",
            },
        )
        assert w.status_code == 200, w.text
    raise AssertionError("agent never saw the assignment empty")


class TestTwoHundredAgents:
    async def test_every_customer_is_handed_out_exactly_once(
        self, server: str, session: AsyncSession, redis: Redis
    ) -> None:
        tenant = await create_tenant(session)
        flow = await create_flow(session, tenant)
        assignment = await create_assignment(session, tenant, flow)
        customers = await add_customers(session, redis, assignment, [{} for _ in range(CUSTOMERS)])
        tokens = []
        for i in range(AGENTS):
            user = User(tenant_id=tenant.id, name=f"Agent {i}", permissions=["customer_handling"])
            session.add(user)
            await session.flush()
            token = new_token()
            session.add(
                ApiToken(tenant_id=tenant.id, user_id=user.id, token_hash=hash_token(token))
            )
            tokens.append(token)
        await session.commit()

        limits = httpx.Limits(max_connections=AGENTS, max_keepalive_connections=AGENTS)
        async with httpx.AsyncClient(base_url=server, limits=limits, timeout=60) as client:
            path = f"/v1/assignments/{assignment.id}/next"
            # A task group, not gather(): when one agent fails, the others are cancelled
            # rather than left running against a client that is being closed.
            async with asyncio.TaskGroup() as group:
                agents = [group.create_task(_agent(client, path, t)) for t in tokens]
            results = [agent.result() for agent in agents]

        served = Counter(cid for agent in results for cid in agent)
        assert sum(served.values()) == CUSTOMERS
        assert set(served) == {c.id for c in customers}
        assert max(served.values()) == 1
