"""Real `nextcall api` processes on free ports, against the test run's PostgreSQL and Redis:
for what only holds across processes (revocations, rate limits) and over real HTTP (CORS)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.infra.settings import Settings
from tests.net import free_port

# The checkout under test, first on the processes' path: the environment's installed copy of
# the project may be another checkout's.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 40.0


class ApiProcess:
    """`nextcall api` with the test settings plus `env`, its output in a log file."""

    def __init__(self, settings: Settings, directory: Path, *, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = directory / f"api-{self.port}.log"
        full = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        full |= {
            "NEXTCALL_DATABASE_URL": settings.database_url,
            "NEXTCALL_REDIS_URL": settings.redis_url,
            "NEXTCALL_DATA_DIR": str(directory / f"data-{self.port}"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SOURCE_ROOT), full.get("PYTHONPATH")])),
            **env,
        }
        nextcall = str(Path(sys.executable).parent / "nextcall")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [nextcall, "api", "--host", "127.0.0.1", "--port", str(self.port)],
                env=full,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert self.process.poll() is None, f"the API exited:\n{self.output()}"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the API is not ready:\n{self.output()}"
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as a lost machine or an OOM-killed container: no request is finished."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_apis(
    settings: Settings, directory: Path, env: dict[str, str], count: int
) -> list["ApiProcess"]:
    """`count` API processes, started together and ready."""
    apis = [ApiProcess(settings, directory, env=env) for _ in range(count)]
    try:
        for api in apis:
            api.wait_ready()
    except BaseException:
        for api in apis:
            api.stop()
        raise
    return apis
