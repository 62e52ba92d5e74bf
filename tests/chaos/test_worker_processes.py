"""The worker's processes (docs/decisions/022-worker-processes.md): a job started while the
scheduler is inside its first ORM use still runs, and a killed worker leaves nothing behind.

The first test makes the old hazard happen on purpose. A `sitecustomize` module, loaded by
every Python process the worker starts, stops the scheduler inside SQLAlchemy's mapper
configuration, that is while it holds SQLAlchemy's configuration mutex, until the test lets
it go. The test enqueues an import only then. A worker that forked its work horse from a
process whose scheduler thread held that mutex would hand the horse a lock nobody releases,
and the import would never start.
"""

import asyncio
import sys
import time
from pathlib import Path
from textwrap import dedent

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.customers.enqueue import enqueue_import
from shared.infra.settings import Settings
from shared.models import ImportStatus
from tests.chaos.worker_process import (
    WorkerProcess,
    alive,
    new_import,
    read_import,
    wait_for_import,
)

# The scheduler reaches its first ORM use within seconds of the worker's start.
HOLD_DEADLINE_S = 60.0

HOLD_IN_CONFIGURE = dedent(
    '''
    """Holds the nextcall scheduler inside SQLAlchemy's mapper configuration (a test's)."""
    import multiprocessing
    import os
    import threading
    import time
    from pathlib import Path

    from sqlalchemy import event
    from sqlalchemy.orm import Mapper

    _DIR = Path(os.environ["NEXTCALL_TEST_HOLD_DIR"])


    def _hold() -> None:
        names = (multiprocessing.current_process().name, threading.current_thread().name)
        if not any("scheduler" in name for name in names):
            return
        # Called under SQLAlchemy's configuration mutex: every other thread of this process
        # that configures mappers now waits, and so would a child forked from it.
        (_DIR / "holding").write_text(str(os.getpid()))
        deadline = time.monotonic() + 120
        while not (_DIR / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.02)


    event.listen(Mapper, "before_configured", _hold)
    '''
)


def _holding_worker(settings: Settings, tmp_path: Path) -> tuple[WorkerProcess, Path]:
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "sitecustomize.py").write_text(HOLD_IN_CONFIGURE)
    paths = [str(hold), *(p for p in sys.path if p)]
    worker = WorkerProcess(
        settings,
        tmp_path / "worker.log",
        extra_env={"PYTHONPATH": ":".join(paths), "NEXTCALL_TEST_HOLD_DIR": str(hold)},
    )
    return worker, hold


async def test_a_job_started_while_the_scheduler_configures_its_mappers_runs(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    import_id, _ = await new_import(
        sessionmaker, status=ImportStatus.queued, payload=b"external_id\nc1\nc2\n"
    )
    worker, hold = _holding_worker(settings, tmp_path)
    try:
        deadline = time.monotonic() + HOLD_DEADLINE_S
        while not (hold / "holding").exists():
            assert worker.process.poll() is None, worker.output()
            assert time.monotonic() < deadline, (
                f"the scheduler never configured its mappers:\n{worker.output()}"
            )
            await asyncio.sleep(0.02)
        # The scheduler holds SQLAlchemy's configuration mutex now, and keeps it until released.
        await asyncio.to_thread(enqueue_import, settings, import_id)
        ended = await wait_for_import(sessionmaker, import_id, worker, done=True)
        assert ended.status == ImportStatus.done, ended.errors
        assert ended.accepted_rows == 2
        # The scheduler was still inside its first ORM use all along.
        assert not (hold / "release").exists()
        assert alive(int((hold / "holding").read_text()))
    finally:
        (hold / "release").touch()
        worker.stop()


async def test_a_killed_worker_leaves_no_process_behind(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    rows = b"".join(b"c%d\n" % i for i in range(60_000))
    import_id, _ = await new_import(
        sessionmaker, status=ImportStatus.queued, payload=b"external_id\n" + rows
    )
    await asyncio.to_thread(enqueue_import, settings, import_id)
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        await wait_for_import(sessionmaker, import_id, worker, done=False)
        below = worker.descendants()
        # The scheduler process, RQ's scheduler and the horse running the import at least.
        assert len(below) >= 3, (below, worker.output())

        worker.kill()  # asserts that every one of them is gone

        job = await read_import(sessionmaker, import_id)
        assert job.status == ImportStatus.running  # killed mid-run, left for the sweep
        assert not any(alive(pid) for pid in below)
    finally:
        worker.stop()
