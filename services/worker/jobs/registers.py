"""registers.import: a do-not-call register's extract replaces the one in force (rule 34).

The API stores the file on a RegisterImport and enqueues this job after its commit. The job
reads the numbers, then in one transaction deletes the register's old numbers, writes the
new ones and sets the extract's date: a claim sees the old extract or the new one, never a
register half written. After the commit every active assignment of the tenant is rebuilt, so
customers whose numbers joined the register wait as blocked and those whose numbers left it
come back; the claim checks the register on the card read meanwhile, so no one it now holds
is served after the commit. Idempotent: a finished import returns at once, an interrupted
one runs again from the start.
"""

import asyncio
import logging
from collections.abc import Iterator, Sequence

from redis.asyncio import Redis
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from services.worker.jobs.rebuild import rebuild_queue
from shared.contact.register_file import read_numbers
from shared.customers.phones import DEFAULT_REGION
from shared.importing.staging import copy_rows
from shared.infra.clock import utc_now
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.models import (
    Assignment,
    ImportStatus,
    Register,
    RegisterImport,
    RegisterNumber,
    Tenant,
)

log = logging.getLogger(__name__)

# Numbers written per statement (SQLite) or between progress reports (both).
CHUNK = 100_000


async def import_register(
    import_id: int, *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> RegisterImport | None:
    """Run the import and rebuild the tenant's queues; None if the import does not exist."""
    async with sessionmaker() as session:
        job = await session.get(
            RegisterImport, import_id, options=[undefer(RegisterImport.payload)]
        )
        if job is None:
            log.warning("register_import.missing import_id=%d", import_id)
            return None
        if job.status == ImportStatus.done:
            return job
        region = await session.scalar(select(Tenant.region).where(Tenant.id == job.tenant_id))
        payload = job.payload or b""
        job.status = ImportStatus.running
        await session.commit()
        tenant_id, register_id, extract_date = job.tenant_id, job.register_id, job.extract_date
    read = await asyncio.to_thread(read_numbers, payload, region=region or DEFAULT_REGION)
    await _progress(sessionmaker, import_id, processed_rows=read.lines)
    numbers = sorted(read.numbers)
    async with sessionmaker() as session:
        register = await session.get(Register, register_id, with_for_update=True)
        if register is None:
            await _progress(sessionmaker, import_id, status=ImportStatus.failed)
            return None
        await session.execute(
            delete(RegisterNumber).where(RegisterNumber.register_id == register_id)
        )
        for written, chunk in _chunks(numbers):
            await _write(session, register_id, tenant_id, chunk)
            await _progress(sessionmaker, import_id, accepted_rows=written)
        register.extract_date = extract_date
        register.numbers = len(numbers)
        register.imported_at = utc_now()
        await session.execute(
            update(RegisterImport)
            .where(RegisterImport.id == import_id)
            .values(
                status=ImportStatus.done,
                processed_rows=read.lines,
                accepted_rows=len(numbers),
                rejected_rows=read.rejected,
                errors=read.errors,
                payload=None,
                finished_at=utc_now(),
            )
        )
        await session.commit()
    log.info(
        "register_import.committed import_id=%d numbers=%d rejected=%d",
        import_id,
        len(numbers),
        read.rejected,
    )
    await rebuild_tenant(tenant_id, sessionmaker=sessionmaker, redis=redis)
    async with sessionmaker() as session:
        return await session.get(RegisterImport, import_id)


async def rebuild_tenant(
    tenant_id: int, *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    """Place every customer of the tenant's active assignments again (their bars changed)."""
    async with sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(Assignment.id).where(Assignment.tenant_id == tenant_id, Assignment.active)
            )
        )
    for assignment_id in ids:
        await rebuild_queue(assignment_id, sessionmaker=sessionmaker, redis=redis)


def _chunks(numbers: Sequence[str]) -> Iterator[tuple[int, Sequence[str]]]:
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start : start + CHUNK]
        yield start + len(chunk), chunk


async def _write(
    session: AsyncSession, register_id: int, tenant_id: int, chunk: Sequence[str]
) -> None:
    if (await session.connection()).dialect.name == "postgresql":
        # COPY: a million numbers in seconds, where parameters cost minutes.
        rows = ((register_id, phone, tenant_id) for phone in chunk)
        await copy_rows(session, "register_numbers", ("register_id", "phone", "tenant_id"), rows)
        return
    await session.execute(
        insert(RegisterNumber),
        [{"register_id": register_id, "phone": p, "tenant_id": tenant_id} for p in chunk],
    )


async def _progress(
    sessionmaker: async_sessionmaker[AsyncSession], import_id: int, **values: object
) -> None:
    """Progress in a transaction of its own: visible while the numbers are being written."""
    async with sessionmaker() as session:
        await session.execute(
            update(RegisterImport).where(RegisterImport.id == import_id).values(**values)
        )
        await session.commit()


async def import_with_settings(settings: Settings, import_id: int) -> RegisterImport | None:
    """Run with an engine and a Redis client of its own, closed again at the end."""
    engine = create_engine(settings, process_name="worker-job")
    redis = create_redis(settings, process_name="worker-job")
    sessionmaker = create_sessionmaker(engine)
    try:
        return await import_register(import_id, sessionmaker=sessionmaker, redis=redis)
    except Exception:
        # Before the commit the old extract stays in force (its transaction rolled back):
        # say so on the import. After it (a rebuild failed) the import is done; the
        # scheduler's reconcile and the claim-time check cover the queues.
        async with sessionmaker() as session:
            await session.execute(
                update(RegisterImport)
                .where(RegisterImport.id == import_id, RegisterImport.status != ImportStatus.done)
                .values(
                    status=ImportStatus.failed,
                    errors=[{"failure": "the import failed; send the extract again"}],
                )
            )
            await session.commit()
        raise
    finally:
        await redis.aclose()
        await engine.dispose()


def run_register_import(import_id: int) -> None:
    """The RQ job: takes an id only and opens its own connections in the work-horse."""
    asyncio.run(import_with_settings(Settings(), import_id))


async def _rebuild_with_settings(settings: Settings, tenant_id: int) -> None:
    engine = create_engine(settings, process_name="worker-job")
    redis = create_redis(settings, process_name="worker-job")
    try:
        await rebuild_tenant(tenant_id, sessionmaker=create_sessionmaker(engine), redis=redis)
    finally:
        await redis.aclose()
        await engine.dispose()


def run_tenant_rebuild(tenant_id: int) -> None:
    """The RQ job of a register's removal: the tenant's queues placed again."""
    asyncio.run(_rebuild_with_settings(Settings(), tenant_id))
