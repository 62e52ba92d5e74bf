"""A throw-away PostgreSQL the chaos tests may stop and start again on the same port, made as
scripts/test makes the test run's (initdb with trust, no fsync), run by an unprivileged
account when the tests run as root (PostgreSQL refuses root)."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.net import free_port

USER = "nextcall"
DATABASE = "nextcall_chaos"
READY_TIMEOUT_S = 60.0


def _bin() -> Path:
    found = shutil.which("pg_ctl")
    if found and (Path(found).parent / "initdb").exists():
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    assert versions, "no PostgreSQL binaries"
    return versions[0]


class PostgresServer:
    def __init__(self) -> None:
        # Not under pytest's tmp_path: that is private to root, and the server's account must
        # reach its data directory.
        self.directory = Path(tempfile.mkdtemp(prefix="nextcall-chaos-pg."))
        self.directory.chmod(0o755)
        self.data = self.directory / "data"
        self.sockets = self.directory / "sockets"
        self.port = free_port()
        self.bin = _bin()
        self.account = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.account:
            command = ["runuser", "-u", self.account, "--", *command]
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            cwd=self.directory,
            env={**os.environ, "LC_ALL": "C"},
        )

    def init(self) -> None:
        self.data.mkdir(mode=0o700)
        self.sockets.mkdir()
        if self.account:
            entry = pwd.getpwnam(self.account)
            for owned in (self.data, self.sockets):
                os.chown(owned, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            "-U",
            USER,
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.sockets}'\n"
                "fsync = off\nfull_page_writes = off\n"
                # A commit is in the WAL before it is answered, as in production: an
                # immediate stop loses no write an agent was told succeeded (fsync off only
                # risks what the machine's crash would lose, and the machine does not crash).
                "synchronous_commit = on\n"
                # Two APIs and two workers, each with its pools, and the tests' own.
                "max_connections = 300\n"
            )
        self.start()
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data / "log"), "-w", "start")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                assert time.monotonic() < deadline, "PostgreSQL did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        """Immediate: every connection is cut, as when the server's machine goes away."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"
