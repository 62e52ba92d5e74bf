"""GET /metrics: every process's metrics, and the queues' depth read at scrape time."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.settings import Settings
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class TestMetrics:
    async def test_queue_depth_and_next_latency(
        self, client: httpx.AsyncClient, session: AsyncSession, redis: Redis
    ) -> None:
        tenant = await create_tenant(session)
        flow = await create_flow(session, tenant)
        assignment = await create_assignment(session, tenant, flow)
        idle = await create_assignment(session, tenant, flow, name="Idle", active=False)
        await add_customers(session, redis, assignment, [{} for _ in range(3)])
        _agent, token = await create_user(session, tenant)
        r = await client.post(
            f"/v1/assignments/{assignment.id}/next", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200

        r = await client.get("/metrics")

        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        samples = _samples(r.text)
        label = str(assignment.id)
        assert samples[("nextcall_queue_depth", (("assignment", label), ("where", "free")))] == 2
        assert samples[("nextcall_queue_depth", (("assignment", label), ("where", "held")))] == 1
        assert not any(labels == (("assignment", str(idle.id)),) for _, labels in samples)
        assert samples[("nextcall_next_duration_seconds_count", ())] >= 1
        assert ("nextcall_next_duration_seconds_bucket", (("le", "0.001"),)) in samples

    async def test_openmetrics_when_asked(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})

        assert r.headers["content-type"].startswith("application/openmetrics-text")
        assert r.text.rstrip().endswith("# EOF")
        assert r.text.count("# EOF") == 1
        assert "nextcall_queue_depth" in r.text


WRITER = """
from shared.infra import metrics
metrics.CLAIMS.labels("free").inc()
metrics.NEXT_LATENCY.observe(0.003)
"""

SCRAPER = """
import asyncio, httpx
from asgi_lifespan import LifespanManager
from services.api.app import create_app

async def main() -> None:
    app = create_app()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            print((await client.get("/metrics")).text)

asyncio.run(main())
"""


class TestMultiprocess:
    def test_sums_what_several_processes_recorded(self, settings: Settings, tmp_path: Path) -> None:
        """Two processes record (as two uvicorn workers would); a third one answers."""
        env = {
            **os.environ,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
            "NEXTCALL_DATABASE_URL": settings.database_url,
            "NEXTCALL_REDIS_URL": settings.redis_url,
        }
        for _ in range(2):
            subprocess.run([sys.executable, "-c", WRITER], env=env, check=True, timeout=60)

        scraped = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(SCRAPER)],
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        ).stdout

        samples = _samples(scraped)
        assert samples[("nextcall_claims_total", (("source", "free"),))] == 2
        assert samples[("nextcall_next_duration_seconds_count", ())] == 2
        assert samples[("nextcall_next_duration_seconds_bucket", (("le", "0.004"),))] == 2
        assert (
            any(name == "nextcall_queue_depth" for name, _ in samples)
            or "nextcall_queue_depth" in scraped
        )
