"""Times a CSV import of N customers into one assignment and a rebuild of its Redis queue.

    .venv/bin/python -m scripts.perf.import_rebuild --rows 100000 [--profile import|rebuild]

Uses a throw-away PostgreSQL and Redis (bench.infra: NEXTCALL_BENCH_DATABASE_URL and
NEXTCALL_BENCH_REDIS_URL reuse running ones). The import runs as the worker runs it (rows
upserted, memberships and events written, every batch placed in the queue); the rebuild
then flushes Redis and places every membership again from the database.
"""

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

import psutil  # type: ignore[import-untyped]
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import infra
from services.queue import AssignmentQueue
from services.worker.jobs.imports import import_customers
from services.worker.jobs.rebuild import rebuild_queue
from shared.demo import SEED_FLOW
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.migrate import upgrade
from shared.infra.settings import Settings
from shared.models import (
    Assignment,
    Event,
    Flow,
    ImportJob,
    ImportStatus,
    Membership,
    Permission,
    Tenant,
    User,
)

T = TypeVar("T")
# The servers' process ids (bench.infra), when it started them: their CPU time is reported.
SERVER_PIDS: list[int] = []
ZONES = ("Europe/Oslo", "Europe/Stockholm", "UTC")


def csv_payload(rows: int) -> bytes:
    """Customers as a CRM export has them: names, a phone in national or E.164 form, e-mail."""
    lines = ["external_id,first_name,last_name,phone_1,email,time_zone,city,account_type"]
    for i in range(rows):
        phone = f"+47{40000000 + i}" if i % 2 else f"{90000000 + i}"
        lines.append(
            f"ext-{i},Ådne{i % 977},Ødegård{i % 1013},{phone},user{i}@Example.com,"
            f"{ZONES[i % 3]},Oslo,{'business' if i % 5 == 0 else 'private'}"
        )
    return ("\n".join(lines) + "\n").encode()


async def setup(sessionmaker: async_sessionmaker[AsyncSession], payload: bytes) -> ImportJob:
    async with sessionmaker() as session:
        tenant = Tenant(name="Perf", data_controller="Perf AS", processing_purpose="Perf")
        session.add(tenant)
        await session.flush()
        flow = Flow(tenant_id=tenant.id, name="Sales", **SEED_FLOW)
        user = User(
            tenant_id=tenant.id, name="Setup", permissions=[Permission.assignment_setup.value]
        )
        session.add_all([flow, user])
        await session.flush()
        assignment = Assignment(tenant_id=tenant.id, flow_id=flow.id, name="Perf")
        session.add(assignment)
        await session.flush()
        job = ImportJob(
            tenant_id=tenant.id,
            assignment_id=assignment.id,
            user_id=user.id,
            format="csv",
            status=ImportStatus.queued,
            payload=payload,
        )
        session.add(job)
        await session.commit()
        return job


def server_cpu() -> float:
    """CPU seconds used so far by the servers and all their processes, ended ones included."""
    total = 0.0
    for pid in SERVER_PIDS:
        with suppress(psutil.Error):
            server = psutil.Process(pid)
            times = server.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in server.children(recursive=True):
                with suppress(psutil.Error):
                    child_times = child.cpu_times()
                    total += child_times.user + child_times.system
    return total


async def timed(label: str, profile: bool, work: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    profiler = cProfile.Profile() if profile else None
    started, cpu, servers = time.perf_counter(), time.process_time(), server_cpu()
    if profiler:
        profiler.enable()
    result = await work()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    # The machine may be shared: this process's CPU time tells its own cost apart.
    print(
        f"{label}: {time.process_time() - cpu:.2f} s of CPU in this process, "
        f"{server_cpu() - servers:.2f} s in PostgreSQL and Redis",
        file=sys.stderr,
    )
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        print(f"--- profile of {label}", file=sys.stderr)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    return result, seconds


async def run(rows: int, profile: str, database_url: str, redis_url: str) -> None:
    settings = Settings(database_url=database_url, redis_url=redis_url)
    await asyncio.to_thread(upgrade, settings)
    engine = create_engine(settings, process_name="perf")
    sessionmaker = create_sessionmaker(engine)
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        payload = csv_payload(rows)
        job = await setup(sessionmaker, payload)
        progress, import_s = await timed(
            "import",
            profile == "import",
            lambda: import_customers(job.id, sessionmaker=sessionmaker, redis=redis),
        )
        assert progress is not None and progress.accepted_rows == rows, progress
        queue = AssignmentQueue(redis, job.assignment_id)
        depth = await queue.depth()
        async with sessionmaker() as session:
            members = await session.scalar(
                select(func.count(Membership.id)).where(
                    Membership.assignment_id == job.assignment_id
                )
            )
            events = await session.scalar(
                select(func.count(Event.id)).where(Event.assignment_id == job.assignment_id)
            )
        assert members == rows and events == rows, (members, events)
        assert depth["free"] == rows, depth
        print(f"import   {rows:>9} rows   {import_s:7.2f} s  {rows / import_s:10.0f} rows/s")

        await redis.flushdb()
        result, rebuild_s = await timed(
            "rebuild",
            profile == "rebuild",
            lambda: rebuild_queue(job.assignment_id, sessionmaker=sessionmaker, redis=redis),
        )
        assert result is not None and result.placed == rows, result
        assert (await queue.depth())["free"] == rows
        print(f"rebuild  {rows:>9} members {rebuild_s:7.2f} s  {rows / rebuild_s:10.0f} members/s")
    finally:
        await redis.aclose()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", choices=("", "import", "rebuild"), default="")
    args = parser.parse_args()
    infra.install_signal_handlers()
    with infra.start(lambda m: print(m, file=sys.stderr)) as servers:
        SERVER_PIDS.extend(p for p in (servers.postmaster_pid, servers.redis_pid) if p)
        asyncio.run(run(args.rows, args.profile, servers.database_url, servers.redis_url))


if __name__ == "__main__":
    main()
