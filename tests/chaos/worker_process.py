"""A real `nextcall worker` process for chaos tests, and the processes it leaves behind."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.infra.settings import Settings
from shared.models import ImportJob, ImportStatus
from tests.factories import create_assignment, create_flow, create_tenant, create_user

# A process the kernel has ended is gone within this; a test that waits longer found a leak.
GONE_WITHIN_S = 10.0
# The longest a test's import may take to start or to end (60,000 rows take a few seconds).
IMPORT_DEADLINE_S = 60.0


class WorkerProcess:
    """A real `nextcall worker` on the test run's PostgreSQL and Redis, its output in a file."""

    def __init__(
        self, settings: Settings, log: Path, *, extra_env: dict[str, str] | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env["NEXTCALL_DATABASE_URL"] = settings.database_url
        env["NEXTCALL_REDIS_URL"] = settings.redis_url
        env.update(extra_env or {})
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "nextcall"), "worker"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def descendants(self) -> list[int]:
        """Every living process below the worker: its scheduler, RQ's, the work horses."""
        return _descendants(self.process.pid)

    def kill(self) -> None:
        """As a lost machine or an OOM-killed container would: no process gets to react.

        Only the worker's own process is killed; the kernel must take the rest with it.
        """
        below = self.descendants()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        left = wait_gone(below)
        assert not left, f"processes outlived the killed worker: {left}\n{self.output()}"

    def stop(self) -> None:
        below = self.descendants()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in wait_gone(below):
            os.kill(pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def alive(pid: int) -> bool:
    """Running: a zombie (ended, not yet reaped by whoever adopted it) does not count."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return _fields(stat)[0] != "Z"


def wait_gone(pids: list[int], within_s: float = GONE_WITHIN_S) -> list[int]:
    """The pids still alive after `within_s` (none, when all ended in time)."""
    deadline = time.monotonic() + within_s
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def _fields(stat: str) -> list[str]:
    # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
    return stat.rsplit(")", 1)[1].split()


def cpu_seconds(root: int) -> float:
    """CPU time (user and system) of a process, of its living descendants, and of the
    children each of them has reaped."""
    ticks = 0
    for pid in (root, *_descendants(root)):
        try:
            fields = _fields(Path(f"/proc/{pid}/stat").read_text())
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat, after pid and comm.
        ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _fields((entry / "stat").read_text())
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found.extend(children)
        frontier.extend(children)
    return found


async def read_import(sessionmaker: async_sessionmaker[AsyncSession], import_id: int) -> ImportJob:
    async with sessionmaker() as session:
        job = await session.get(ImportJob, import_id)
        assert job is not None
        return job


async def wait_for_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    import_id: int,
    worker: WorkerProcess,
    done: bool,
) -> ImportJob:
    """Until the import has committed a batch but not finished (done=False), or has ended."""
    deadline = time.monotonic() + IMPORT_DEADLINE_S
    while time.monotonic() < deadline:
        job = await read_import(sessionmaker, import_id)
        if done and job.status in (ImportStatus.done, ImportStatus.failed):
            return job
        if not done:
            assert job.status != ImportStatus.done, "the import ended before it could be killed"
            if job.processed_rows > 0:
                return job
        assert worker.process.poll() is None, worker.output()
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"import {import_id} not {'ended' if done else 'started'}:\n{worker.output()}"
    )


async def new_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    status: ImportStatus,
    payload: bytes,
    created_at: datetime | None = None,
) -> tuple[int, int]:
    """An import row into a new tenant's assignment: its id and the assignment's."""
    async with sessionmaker() as session:
        tenant = await create_tenant(session)
        user, _ = await create_user(session, tenant)
        assignment = await create_assignment(session, tenant, await create_flow(session, tenant))
        job = ImportJob(
            tenant_id=tenant.id,
            assignment_id=assignment.id,
            user_id=user.id,
            format="csv",
            status=status,
            payload=payload,
            created_at=created_at or datetime.now(UTC),
        )
        session.add(job)
        await session.commit()
        return job.id, assignment.id
