"""Imports larger than the inline limit: 202, the worker's job, progress to 100%."""

import asyncio
import os
import sys
from pathlib import Path

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.customers.enqueue import IMPORT_JOB
from services.queue import AssignmentQueue, Claimed
from services.worker.jobs.imports import run_import
from shared.infra.jobqueue import QueueName
from shared.infra.settings import Settings
from shared.models import Customer, Event, ImportJob, ImportStatus
from tests.api.customers.conftest import SMALL_INLINE_MAX_ROWS, Importer

ROOT = Path(__file__).resolve().parents[3]
ROWS = 10
LARGE_CSV = (
    b"external_id,first_name,email\n"
    + b"".join(b"c%d,Customer %d,c%d@example.no\n" % (i, i, i) for i in range(ROWS - 1))
    + b"bad,Broken,not-an-address\n"
)

SIMPLE_WORKER = """
import sys
from redis import Redis
from rq import Queue, SimpleWorker
from services.worker.metered import PromptUnsubscribe

class Worker(PromptUnsubscribe, SimpleWorker):
    pass

connection = Redis.from_url(sys.argv[1])
worker = Worker([Queue(sys.argv[2], connection=connection)], connection=connection)
worker.work(burst=True)
"""


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> dict[str, str]:
    """The job reads Settings() from the environment, as in a deployed worker."""
    monkeypatch.setenv("NEXTCALL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NEXTCALL_REDIS_URL", settings.redis_url)
    return {
        **os.environ,
        "NEXTCALL_DATABASE_URL": settings.database_url,
        "NEXTCALL_REDIS_URL": settings.redis_url,
    }


def rq_connection(settings: Settings) -> SyncRedis:
    return SyncRedis.from_url(settings.redis_url)


async def queued_import(big: Importer) -> int:
    r = await big.csv(LARGE_CSV)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "queued"
    assert r.headers["Location"] == f"/v1/imports/{body['id']}"
    return int(body["id"])


class TestQueuedImport:
    async def test_a_file_over_the_inline_limit_is_queued_for_the_worker(
        self, big: Importer, settings: Settings, session: AsyncSession
    ) -> None:
        assert ROWS > SMALL_INLINE_MAX_ROWS
        import_id = await queued_import(big)

        with rq_connection(settings) as connection:
            job = Job.fetch(f"import-{import_id}", connection=connection)
            assert job.func_name == IMPORT_JOB
            assert job.args == (import_id,)
            assert job.origin == QueueName.default
        assert await session.scalar(select(func.count()).select_from(Customer)) == 0
        polled = (await big.poll(import_id)).json()
        assert (polled["status"], polled["progress"], polled["total_rows"]) == ("queued", 0, ROWS)

    async def test_the_job_function_finishes_the_import(
        self, big: Importer, worker_env: dict[str, str], redis: Redis, session: AsyncSession
    ) -> None:
        import_id = await queued_import(big)

        # RQ calls the job in a process of its own: no event loop runs there.
        await asyncio.to_thread(run_import, import_id)

        body = (await big.poll(import_id)).json()
        assert (body["status"], body["progress"]) == ("done", 100.0)
        assert (body["processed_rows"], body["accepted_rows"], body["rejected_rows"]) == (
            ROWS,
            ROWS - 1,
            1,
        )
        assert body["errors"] == [
            {
                "line": ROWS + 1,
                "external_id": "bad",
                "reason": "'not-an-address' is not an e-mail address",
            }
        ]
        claimed = await AssignmentQueue(redis, big.assignment.id).claim(user_id=1, lease_seconds=60)
        assert isinstance(claimed, Claimed)

    async def test_running_the_job_again_changes_nothing(
        self, big: Importer, worker_env: dict[str, str], session: AsyncSession
    ) -> None:
        import_id = await queued_import(big)
        await asyncio.to_thread(run_import, import_id)
        await asyncio.to_thread(run_import, import_id)
        assert await session.scalar(select(func.count()).select_from(Customer)) == ROWS - 1
        assert await session.scalar(select(func.count()).select_from(Event)) == ROWS - 1

    async def test_a_simple_worker_runs_the_queued_import(
        self, big: Importer, settings: Settings, worker_env: dict[str, str], session: AsyncSession
    ) -> None:
        import_id = await queued_import(big)

        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SIMPLE_WORKER,
            settings.redis_url,
            QueueName.default,
            env=worker_env,
            cwd=ROOT,
        )
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0

        with rq_connection(settings) as connection:
            job = Job.fetch(f"import-{import_id}", connection=connection)
            assert job.get_status() == JobStatus.FINISHED
            assert Queue(QueueName.default, connection=connection).count == 0
        stored = await session.get(ImportJob, import_id)
        assert stored is not None
        assert (stored.status, stored.accepted_rows) == (ImportStatus.done, ROWS - 1)
