"""nextcall as it is deployed to scale out, on this machine: two `nextcall api` processes and
two `nextcall worker`s on a PostgreSQL, a 3-master Redis Cluster and a Redis for the jobs, all
of them the tests' own, so that they may kill any part and nothing else notices."""

import contextlib
import time
from pathlib import Path

from shared.infra.migrate import upgrade
from shared.infra.settings import Environment, Settings
from tests.api.api_process import ApiProcess
from tests.chaos.postgres_server import PostgresServer
from tests.chaos.redis_cluster import RedisCluster
from tests.chaos.redis_server import RedisServer
from tests.chaos.worker_process import WorkerProcess, cpu_seconds


class Deployment:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.postgres = PostgresServer()
        self.cluster = RedisCluster(directory / "cluster")
        self.jobs = RedisServer(directory)
        self.apis: list[ApiProcess] = []
        self.workers: list[WorkerProcess] = []
        self.settings = Settings(
            env=Environment.testing,
            database_url=self.postgres.url,
            redis_url=self.cluster.url,
            jobs_redis_url=self.jobs.url,
        )

    @property
    def env(self) -> dict[str, str]:
        # Unbuffered: a process killed at the end still leaves its whole log.
        return {
            "NEXTCALL_JOBS_REDIS_URL": self.jobs.url,
            "NEXTCALL_ENV": "testing",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, *, apis: int = 2, workers: int = 2) -> dict[str, float]:
        """Start everything; the seconds each part took."""
        took: dict[str, float] = {}
        started = time.monotonic()
        self.postgres.init()
        upgrade(self.settings)
        took["postgresql"] = time.monotonic() - started
        self.cluster.start()
        self.jobs.start()
        took["redis"] = time.monotonic() - started - took["postgresql"]
        # The APIs first, the workers (three processes each) once the APIs answer: fewer
        # processes starting at once on two cores.
        for _ in range(apis):
            self.apis.append(ApiProcess(self.settings, self.directory, env=self.env))
        for api in self.apis:
            api.wait_ready()
        for _ in range(workers):
            self.start_worker()
        took["processes"] = time.monotonic() - started - took["postgresql"] - took["redis"]
        return took

    def start_api(self) -> ApiProcess:
        api = ApiProcess(self.settings, self.directory, env=self.env)
        self.apis.append(api)
        api.wait_ready()
        return api

    def start_worker(self) -> WorkerProcess:
        n = len(self.workers) + 1
        worker = WorkerProcess(
            self.settings, self.directory / f"worker-{n}.log", extra_env=self.env
        )
        self.workers.append(worker)
        return worker

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the API processes, PostgreSQL and the Redis nodes."""
        postmaster = int((self.postgres.data / "postmaster.pid").read_text().split()[0])
        return {
            "api": sum(cpu_seconds(api.process.pid) for api in self.apis),
            "postgresql": cpu_seconds(postmaster),
            "redis": sum(cpu_seconds(p.pid) for p in self.cluster.processes.values()),
        }

    def stop(self) -> None:
        """All at once (SIGKILL): nothing here outlives the tests, and nothing needs saving."""
        for api in self.apis:
            if api.process.poll() is None:
                api.kill()
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.kill()
        with contextlib.suppress(Exception):
            self.cluster.stop()
        self.jobs.stop()
        self.postgres.remove()
