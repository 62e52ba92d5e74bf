"""The API served over real HTTP (uvicorn in its own process) and Debian's headless Chromium
driven by Playwright: what a supervisor's browser does, end to end.

Playwright is launched with the system's Chromium (`executable_path`): it never downloads a
browser of its own. scripts/test installs Debian's `chromium` when it is missing.
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from shared.infra.settings import Settings
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
# How long uvicorn may take to answer /healthz after it was started.
START_TIMEOUT_S = 30.0


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("Chromium is not installed: run the tests with scripts/test")
    return found


class Served:
    """`nextcall`'s API in a child process on a free loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "NEXTCALL_ENV": "testing",
            "NEXTCALL_DATABASE_URL": settings.database_url,
            "NEXTCALL_REDIS_URL": settings.redis_url,
            # Assignment edits made by a test are seen at once.
            "NEXTCALL_ASSIGNMENT_CACHE_TTL_S": "0",
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "services.api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API exited with {self.process.returncode}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not answer in time")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def served(settings: Settings, migrated: None) -> Iterator[Served]:
    server = Served(settings)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
        found = await p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        try:
            yield found
        finally:
            await found.close()
