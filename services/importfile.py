"""`nextcall import`: a customer file imported from the command line, with a progress bar.

It runs the worker's import job in this process (services/worker/jobs/imports.py): the same
batches, upserts by external id, placing in the queue and rejected rows as an import sent to
the API; its progress is read from the import's row, as GET /v1/imports/{id} would.
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.preflight import CommandError
from services.progress import progress_bar
from services.worker.jobs.imports import import_customers
from shared.importing import ImportProgress, rejected_rows_of
from shared.importing.parsing import ImportFileError, ImportFormat, open_source
from shared.infra.db import create_engine, create_sessionmaker, unit_of_work
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.models import Assignment, ImportJob, ImportStatus, Permission, User

# How often the bar reads the import's progress.
POLL_S = 0.5
# Rejected rows printed at the end; GET /v1/imports/{id}/errors pages through all of them.
SHOWN_REJECTED = 10


@dataclass(frozen=True)
class ImportedFile:
    import_id: int
    progress: ImportProgress
    rejected: list[dict[str, object]]


def file_format(path: Path, given: str | None) -> ImportFormat:
    if given:
        return ImportFormat(given)
    if path.suffix.lower() == ".json":
        return ImportFormat.json
    return ImportFormat.csv


async def import_file(
    settings: Settings,
    *,
    assignment_id: int,
    payload: bytes,
    fmt: ImportFormat,
    user_id: int | None,
) -> ImportedFile:
    try:
        total = open_source(payload, fmt).estimated_rows()
    except ImportFileError as exc:
        raise CommandError(f"the file cannot be imported: {exc}") from None
    engine = create_engine(settings, process_name="cli")
    redis = create_redis(settings, process_name="cli")
    sessionmaker = create_sessionmaker(engine)
    try:
        job_id = await _new_job(sessionmaker, assignment_id, fmt, payload, total, user_id)
        run = asyncio.create_task(import_customers(job_id, sessionmaker=sessionmaker, redis=redis))
        with progress_bar(total=total, unit="rows", desc=f"import {job_id}") as bar:
            while not run.done():
                await asyncio.wait([run], timeout=POLL_S)
                bar.update(await _processed(sessionmaker, job_id) - bar.n)
        progress = run.result()
        assert progress is not None  # the job was created above
        async with sessionmaker() as session:
            job = await session.get(ImportJob, job_id)
            assert job is not None
            rejected = rejected_rows_of(job)[:SHOWN_REJECTED]
        return ImportedFile(job_id, progress, rejected)
    finally:
        await redis.aclose()
        await engine.dispose()


async def _new_job(
    sessionmaker: async_sessionmaker[AsyncSession],
    assignment_id: int,
    fmt: ImportFormat,
    payload: bytes,
    total: int,
    user_id: int | None,
) -> int:
    async with unit_of_work(sessionmaker) as session:
        assignment = await session.get(Assignment, assignment_id)
        if assignment is None:
            raise CommandError(f"assignment {assignment_id} not found")
        user = await _importing_user(session, assignment.tenant_id, user_id)
        job = ImportJob(
            tenant_id=assignment.tenant_id,
            assignment_id=assignment.id,
            user_id=user.id,
            format=fmt.value,
            status=ImportStatus.queued,
            total_rows=total,
            payload=payload,
        )
        session.add(job)
        await session.flush()
        return job.id


async def _importing_user(session: AsyncSession, tenant_id: int, user_id: int | None) -> User:
    """The user the import is recorded for: the one named, else the tenant's first
    administrator."""
    users = await session.scalars(
        select(User).where(User.tenant_id == tenant_id, User.active.is_(True)).order_by(User.id)
    )
    for user in users:
        if user.id == user_id or (
            user_id is None and Permission.administrator.value in user.permissions
        ):
            return user
    if user_id is not None:
        raise CommandError(f"user {user_id} is no active user of the assignment's tenant")
    raise CommandError("the tenant has no active administrator: name a user with --user")


async def _processed(sessionmaker: async_sessionmaker[AsyncSession], job_id: int) -> int:
    async with sessionmaker() as session:
        rows = await session.scalar(select(ImportJob.processed_rows).where(ImportJob.id == job_id))
    return rows or 0
