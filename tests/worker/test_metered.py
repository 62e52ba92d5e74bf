"""Jobs counted by kind: started and timed in the work-horse, failed or retried once each,
as a real forking worker in multiprocess mode records them."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from services.worker.metered import REBUILD_JOB, job_kind
from shared.infra.settings import Settings

WORK = """
from redis import Redis
from rq import Queue, Retry
from services.worker.metered import MeteredWorker
from shared.infra.jobqueue import QueueName

connection = Redis.from_url(REDIS_URL)
connection.flushdb()
queue = Queue(QueueName.default, connection=connection)
queue.enqueue_call("services.worker.jobs.rebuild.rebuild_assignment", args=(999999,))
queue.enqueue_call("builtins.int", args=("not a number",))
queue.enqueue_call("builtins.int", args=("not a number",), retry=Retry(max=1))
MeteredWorker([queue], connection=connection).work(burst=True)
"""


def _value(registry: CollectorRegistry, name: str, kind: str) -> float | None:
    return registry.get_sample_value(name, {"kind": kind})


class TestMeteredWorker:
    def test_counts_jobs_by_kind(self, settings: Settings, tmp_path: Path) -> None:
        env = {
            **os.environ,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
            "NEXTCALL_DATABASE_URL": settings.database_url,
            "NEXTCALL_REDIS_URL": settings.redis_url,
        }
        script = f"REDIS_URL = {settings.redis_url!r}\n" + textwrap.dedent(WORK)

        subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(tmp_path))
        assert _value(registry, "nextcall_jobs_started_total", "rebuild") == 1
        assert _value(registry, "nextcall_job_duration_seconds_count", "rebuild") == 1
        assert _value(registry, "nextcall_jobs_failed_total", "rebuild") == 0
        # builtins.int is no job of ours: "other". Three runs: one failed at once, one
        # retried, then failed.
        assert _value(registry, "nextcall_jobs_started_total", "other") == 3
        assert _value(registry, "nextcall_jobs_retried_total", "other") == 1
        assert _value(registry, "nextcall_jobs_failed_total", "other") == 2

    def test_kinds_are_a_fixed_set(self) -> None:
        assert job_kind(REBUILD_JOB) == "rebuild"
        assert job_kind("services.worker.jobs.imports.run_import") == "import"
        assert job_kind("anything.else") == "other"
        assert job_kind(None) == "other"
