"""Every metric the Grafana dashboard and the alert rules query is exported by the running
processes: a real `nextcall api` and a real `nextcall worker --metrics-port`, each with its
own metrics directory as in production, scraped after a short workload."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.worker.jobs.rebuild import enqueue_rebuild
from shared.infra.jobqueue import rq_connection
from shared.infra.settings import Settings
from tests.deploy.queries import queried_names
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)
from tests.net import free_port

# A process starting: the worker spawns its scheduler, a fresh interpreter importing the app,
# which on a loaded 2-core machine was seen to take most of a minute.
STARTED_S = 180.0
# A scrape showing what the workload did, once both processes run.
READY_S = 60.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class Process:
    """A `nextcall` command on the test run's PostgreSQL and Redis, its output in a file."""

    def __init__(self, settings: Settings, data_dir: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env |= {
            "NEXTCALL_DATABASE_URL": settings.database_url,
            "NEXTCALL_REDIS_URL": settings.redis_url,
            "NEXTCALL_DATA_DIR": str(data_dir),
        }
        data_dir.mkdir(parents=True)
        self.log = data_dir / "output.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "nextcall"), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def _samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _scrape_when(
    process: Process, url: str, ready: str, *, within_s: float = READY_S
) -> Samples:
    """The scrape of `url` once it exports the sample `ready` above 0."""
    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            assert process.process.poll() is None, process.output()
            try:
                samples = _samples((await client.get(url)).text)
                if any(name == ready and value > 0 for (name, _), value in samples.items()):
                    return samples
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{url}: no {ready} > 0\n{process.output()}"
            await asyncio.sleep(0.2)


class TestExported:
    async def test_every_queried_metric_is_exported_after_a_workload(
        self,
        settings: Settings,
        session: AsyncSession,
        redis: Redis,
        tmp_path: Path,
        processes: list[Process],
    ) -> None:
        tenant = await create_tenant(session)
        flow = await create_flow(session, tenant)
        assignment = await create_assignment(session, tenant, flow)
        await add_customers(session, redis, assignment, [{} for _ in range(2)])
        _agent, token = await create_user(session, tenant)
        api_port, worker_port = free_port(), free_port()
        api = Process(
            settings, tmp_path / "api", "api", "--host", "127.0.0.1", "--port", str(api_port)
        )
        processes.append(api)
        worker = Process(
            settings, tmp_path / "worker", "worker", "--metrics-port", str(worker_port)
        )
        processes.append(worker)
        base = f"http://127.0.0.1:{api_port}"
        worker_metrics = f"http://127.0.0.1:{worker_port}/metrics"
        await _scrape_when(api, f"{base}/metrics", "nextcall_queue_assignments", within_s=STARTED_S)
        await _scrape_when(
            worker,
            worker_metrics,
            "nextcall_scheduler_last_tick_timestamp_seconds",
            within_s=STARTED_S,
        )

        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=auth) as client:
            for _ in range(2):  # the hot paths: next, then an outcome
                card = (await client.post(f"/v1/assignments/{assignment.id}/next")).json()
                written = await client.post(
                    f"/v1/customers/{card['customer']['id']}/outcomes",
                    json={
                        "lease_id": card["lease"]["id"],
                        "version": card["membership"]["version"],
                        "code": "not_interested",
                    },
                )
                assert written.status_code == 200, written.text
            empty = await client.post(
                f"/v1/assignments/{assignment.id}/next", json={"wait_seconds": 1}
            )
            assert empty.json()["status"] == "empty"
            assert (await client.get("/v1/me")).status_code == 200
            assert (await client.get("/v1/no-such-thing")).status_code == 404
        connection = rq_connection(settings, process_name="tests")
        try:
            enqueue_rebuild(connection, assignment.id)
        finally:
            connection.close()

        from_worker = await _scrape_when(worker, worker_metrics, "nextcall_jobs_started_total")
        from_api = await _scrape_when(
            api, f"{base}/metrics", "nextcall_process_resident_memory_bytes"
        )

        names = {name for name, _ in from_api} | {name for name, _ in from_worker}
        assert queried_names() - names == set()
        http = "nextcall_http_requests_total"
        next_route = (("method", "POST"), ("route", "/v1/assignments/{assignment_id}/next"))
        # Two served in front of FastAPI, the long poll by FastAPI: one route all the same.
        assert from_api[(http, (*next_route, ("status", "200")))] == 3
        unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
        assert from_api[(http, unmatched)] == 1
        assert from_api[("nextcall_outcomes_total", (("code", "not_interested"),))] == 2
        none_left = (("reason", "none_left"), ("result", "empty"))
        assert from_api[("nextcall_next_total", none_left)] == 1
        assert from_worker[("nextcall_jobs_started_total", (("kind", "rebuild"),))] == 1
        assert from_worker[("nextcall_rq_jobs", (("state", "failed"),))] == 0
