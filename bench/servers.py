"""The servers under test, 2 uvicorn workers each, and the CPU they and their peers use."""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# name -> (uvicorn factory, readiness path)
APPS: dict[str, tuple[str, str]] = {
    "floor": ("bench.baseline_floor:create_app", "/health"),
    "ideal": ("bench.baseline_redis:create_app", "/health"),
    "nextcall": ("services.api.app:create_app", "/healthz"),
    "peer": ("bench.baseline_pg:create_app", "/health"),
    # nextcall from another checkout (run.py --base): the same app at an earlier commit.
    "base": ("services.api.app:create_app", "/healthz"),
}
# Idle keep-alive connections are kept this long (Settings.http_keep_alive_s's default).
KEEP_ALIVE_S = 75
# As the product is run on a 2-core machine: one worker process per core.
WORKERS = 2


@dataclass
class Server:
    name: str
    port: int
    proc: "subprocess.Popen[bytes]"
    log_path: Path

    def __enter__(self) -> "Server":
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(
    name: str,
    port: int,
    *,
    database_url: str,
    redis_url: str,
    log_dir: Path,
    workers: int = WORKERS,
    profile: Path | None = None,
    extra_env: dict[str, str] | None = None,
    root: Path = ROOT,
    http: str = "uvicorn",
) -> Server:
    """uvicorn (or `http="granian"`) with `workers` worker processes on one port.

    With `profile`, the server runs in one process under cProfile (a supervisor with workers
    would profile only the supervisor) and writes its statistics there on exit; `extra_env`
    adds settings (e.g. NEXTCALL_DB_POOL_SIZE) for every server alike.
    """
    factory, _ = APPS[name]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEXTCALL_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        NEXTCALL_DATABASE_URL=database_url,
        NEXTCALL_REDIS_URL=redis_url,
        PYTHONPATH=str(root),
        # Log lines as production writes them (JSON): the development default, readable text,
        # costs about twice as much per line, and the API writes one per request.
        NEXTCALL_LOG_FORMAT="json",
    )
    env.update(extra_env or {})
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    command = (
        _granian(factory, port, workers)
        if http == "granian"
        else [
            *("-m", "uvicorn", factory, "--factory"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--loop", "uvloop", "--http", "httptools", "--no-access-log"),
            # As `nextcall api` runs (decision 031): an agent paced every 20 s keeps its
            # connection, as it does in production.
            *("--timeout-keep-alive", str(KEEP_ALIVE_S)),
            *("--log-level", "warning"),
            *(("--workers", str(workers)) if workers > 1 and not profile else ()),
        ]
    )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                *(("-m", "cProfile", "-o", str(profile)) if profile else ()),
                *command,
            ],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Server(name, port, proc, log_path)


def _granian(factory: str, port: int, workers: int) -> list[str]:
    """The same app on granian (a Rust HTTP server), as uvicorn is run: ASGI, uvloop, one
    worker process per core, no access log."""
    return [
        *("-m", "granian", "--interface", "asgi", "--factory", factory),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--loop", "uvloop", "--http", "1", "--no-ws", "--log-level", "warning"),
    ]


def ready_path(name: str) -> str:
    return APPS[name][1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """Direct children of a process (PostgreSQL's backends are the postmaster's)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


class CpuMeter:
    """CPU seconds used between start() and stop() by named groups of processes.

    Each group is a process and, with `tree`, its direct children alive at either sample;
    a child that starts and ends inside the window is not seen (pool connections live long).
    """

    def __init__(self, groups: dict[str, tuple[int, bool]]) -> None:
        self.groups = groups
        self._start: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}
        self.split: dict[str, list[float]] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        out: dict[str, dict[int, float]] = {}
        for name, (pid, tree) in self.groups.items():
            pids = [pid, *(children(pid) if tree else [])]
            out[name] = {p: cpu_seconds(p) for p in pids}
        return out

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> None:
        end = self._sample()
        self.split = {}
        for name, now in end.items():
            before = self._start.get(name, {})
            each = [v - before.get(p, 0.0) for p, v in now.items() if v >= before.get(p, 0.0)]
            self.used[name] = round(sum(each), 3)
            # How the group's CPU spread over its processes, busiest first: for a server, how
            # evenly its workers shared the connections.
            self.split[name] = sorted((round(x, 3) for x in each if x > 0), reverse=True)
