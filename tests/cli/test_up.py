"""`nextcall up` from an empty data dir: embedded SQLite and Redis, demo data, a working /next
over real HTTP, and a clean stop on SIGTERM; then a second start on the same data."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.net import free_port

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0
READY_LINE = "Stop with Ctrl-C."


@dataclass
class Up:
    """A running `nextcall up`, its output collected by a thread (a full pipe would block it)."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, data_dir: Path, cwd: Path) -> "Up":
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("NEXTCALL_DATABASE_URL", "NEXTCALL_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")
        }
        env["NEXTCALL_DATA_DIR"] = str(data_dir)
        port = free_port()
        nextcall = Path(sys.executable).parent / "nextcall"
        process = subprocess.Popen(
            [str(nextcall), "up", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        up = cls(process, port)
        threading.Thread(target=up._read, daemon=True).start()
        return up

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip() == READY_LINE:
                self.ready.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self) -> float:
        started = time.monotonic()
        deadline = started + READY_TIMEOUT_S
        while not self.ready.wait(timeout=0.2):
            assert self.process.poll() is None, f"`nextcall up` exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"`nextcall up` not ready:\n{self.output}"
        return time.monotonic() - started

    def token(self, key: str) -> str:
        match = re.search(rf"^\s+{key}\s+.*\s(nc_\S+)$", self.output, re.MULTILINE)
        assert match, self.output
        return match.group(1)

    def assignment_id(self) -> int:
        match = re.search(r"/v1/assignments/(\d+)/next", self.output)
        assert match, self.output
        return int(match.group(1))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


class TestUp:
    def test_serves_next_from_an_empty_data_dir_and_stops_cleanly(self, tmp_path: Path) -> None:
        data_dir = tmp_path / "data"
        up = Up.start(data_dir, cwd=tmp_path)
        try:
            up.wait_ready()
            base = f"http://127.0.0.1:{up.port}"
            token = up.token("agent1")

            # A first start lost nothing: no recovery warning (issue 14).
            assert "WARNING" not in up.output, up.output
            r = httpx.post(
                f"{base}/v1/assignments/{up.assignment_id()}/next",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )

            assert r.status_code == 200, r.text
            card = r.json()
            assert card["status"] == "claimed"
            assert card["customer"]["phones"][0].startswith("+47")
            assert card["customer"]["time_zone"] == "Europe/Oslo"
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
            assert "nextcall_queue_depth" in metrics
            assert "nextcall_next_duration_seconds_count 1.0" in metrics
        finally:
            code = up.stop()
        assert code == 0, up.output
        assert "==> stopped" in up.output
        assert not (data_dir / "redis.sock").exists()
        assert (data_dir / "redis.rdb").exists()  # the queue was saved at shutdown

        again = Up.start(data_dir, cwd=tmp_path)
        try:
            again.wait_ready()
            assert "already there" in again.output
            assert again.token("agent1") == token
            r = httpx.post(
                f"http://127.0.0.1:{again.port}/v1/assignments/{again.assignment_id()}/next",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            # Still leased to agent1 from the first run: the same customer comes back.
            assert r.json()["customer"]["id"] == card["customer"]["id"]
        finally:
            assert again.stop() == 0, again.output
