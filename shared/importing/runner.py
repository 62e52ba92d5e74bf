"""Running a whole import in batches: each batch is one transaction that writes its customers
and the job's progress together, then the caller places the batch in the queue.

Shared by the API (small imports, inline) and the worker (large ones, as a job). A run can be
repeated: rows are upserted by external id, so running an interrupted import again from the
start converges on the same result; a finished import is not run again.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from shared.customers.phones import DEFAULT_REGION
from shared.flows import FlowSpec
from shared.importing.parsing import (
    ImportFileError,
    ImportFormat,
    ImportSource,
    RawRow,
    open_source,
)
from shared.importing.upsert import BatchResult, ImportTarget, PreparedBatch, Upserter
from shared.importing.validation import CustomerRow, FieldRules, RowError, RowValidator
from shared.models import (
    Assignment,
    CustomFieldDefinition,
    Flow,
    ImportJob,
    ImportStatus,
    Tenant,
)

DEFAULT_BATCH_SIZE = 1000
# The rejected rows are rewritten at most this often (and at the end): a file of a million bad
# rows must not rewrite a growing list after every batch.
ERRORS_FLUSH_INTERVAL_S = 1.0

# A batch as validated: the good rows, the rejected ones and how many rows it read.
_Validated = tuple[list[CustomerRow], list[RowError], int]
OnBatchCommitted = Callable[[list[int]], Awaitable[None]]
# The same moment with all the batch wrote, for a caller that places new members itself.
OnBatchResult = Callable[[BatchResult], Awaitable[None]]


class ImportNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class ImportProgress:
    import_id: int
    status: ImportStatus
    total_rows: int
    processed_rows: int
    accepted_rows: int
    rejected_rows: int


# ImportJob.errors holds the rejected rows ({"line", "external_id", "reason"}), the file's
# warnings ({"warning": ...}) and why a run failed ({"failure": ...}); these read them apart.


def stored_errors(
    rejected: list[dict[str, Any]], warnings: list[str], failure: str | None = None
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [{"warning": w} for w in warnings]
    if failure is not None:
        entries.append({"failure": failure})
    return entries + rejected


def rejected_rows_of(job: ImportJob) -> list[dict[str, Any]]:
    return [e for e in job.errors or [] if "reason" in e]


def warnings_of(job: ImportJob) -> list[str]:
    return [str(e["warning"]) for e in job.errors or [] if "warning" in e]


def failure_of(job: ImportJob) -> str | None:
    return next((str(e["failure"]) for e in job.errors or [] if "failure" in e), None)


def progress_of(job: ImportJob) -> ImportProgress:
    return ImportProgress(
        job.id,
        ImportStatus(job.status),
        job.total_rows,
        job.processed_rows,
        job.accepted_rows,
        job.rejected_rows,
    )


async def import_target(
    session: AsyncSession, job: ImportJob
) -> tuple[ImportTarget, Assignment, FlowSpec]:
    """What the job imports into: its assignment, the flow and the tenant's custom fields."""
    assignment = await session.get(Assignment, job.assignment_id)
    if assignment is None or assignment.tenant_id != job.tenant_id:
        raise ImportNotFound(f"assignment {job.assignment_id} of import {job.id} is gone")
    flow = await session.get(Flow, assignment.flow_id)
    if flow is None:
        raise ImportNotFound(f"flow {assignment.flow_id} of assignment {assignment.id} is gone")
    spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
    definitions = await session.scalars(
        select(CustomFieldDefinition).where(CustomFieldDefinition.tenant_id == job.tenant_id)
    )
    region = await session.scalar(select(Tenant.region).where(Tenant.id == job.tenant_id))
    target = ImportTarget(
        tenant_id=job.tenant_id,
        assignment_id=assignment.id,
        initial_state=spec.initial_state,
        rules=FieldRules.from_definitions(definitions),
        user_id=job.user_id,
        import_id=job.id,
        region=region or DEFAULT_REGION,
    )
    return target, assignment, spec


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    import_id: int,
    *,
    source: ImportSource | None = None,
    on_batch_committed: OnBatchCommitted | None = None,
    on_batch_result: OnBatchResult | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportProgress:
    """Runs import `import_id` to its end, committing per batch; marks it failed and re-raises
    if something other than a bad row stops it.

    `source` is the already opened file (inline imports); without it the job's stored payload
    is read. `on_batch_committed(customer_ids)` runs after each commit with the batch's
    accepted customers, all members of the assignment by then; it may run while the next
    batch is written, one call at a time and in commit order, and all have ended when the
    import is marked done. `on_batch_result(result)`, if given, is called the same way
    instead, with everything the batch wrote (shared.importing.upsert.BatchResult).
    """
    on_result = on_batch_result
    if on_result is None and on_batch_committed is not None:
        on_ids = on_batch_committed

        async def on_result(result: BatchResult) -> None:
            await on_ids(result.customer_ids)

    run = _ImportRun(sessionmaker, import_id, on_result, batch_size)
    try:
        return await run.run(source)
    except ImportNotFound:
        raise
    except BaseException as exc:
        with suppress(Exception):
            await run.fail(exc)
        raise


class _ImportRun:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        import_id: int,
        on_batch: OnBatchResult | None,
        batch_size: int,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.import_id = import_id
        self.on_batch = on_batch
        self.batch_size = max(1, batch_size)
        self.rejected: list[dict[str, Any]] = []
        self.source: ImportSource | None = None
        self.validator: RowValidator | None = None
        self.processed = 0
        self.accepted = 0
        self.total = 0
        self.flushed_at = time.monotonic()
        self.flushed_errors = 0

    async def run(self, source: ImportSource | None) -> ImportProgress:
        async with self.sessionmaker() as session:
            options = [] if source is not None else [undefer(ImportJob.payload)]
            job = await session.get(ImportJob, self.import_id, options=options)
            if job is None:
                raise ImportNotFound(f"import {self.import_id} does not exist")
            if job.status == ImportStatus.done:
                return progress_of(job)
            if source is None:
                if job.payload is None:
                    raise ImportFileError("the import has no stored file")
                source = await asyncio.to_thread(open_source, job.payload, ImportFormat(job.format))
            target, _, _ = await import_target(session, job)
            self.total = await asyncio.to_thread(source.count)
            job.status = ImportStatus.running
            job.total_rows = self.total
            job.processed_rows = job.accepted_rows = job.rejected_rows = 0
            job.errors = stored_errors([], source.warnings)
            job.finished_at = None
            await session.commit()

        validator = RowValidator(target.rules, region=target.region)
        self.source, self.validator = source, validator
        upserter = Upserter(target)
        rows = source.rows()

        def validate_next() -> asyncio.Future[_Validated]:
            return asyncio.ensure_future(asyncio.to_thread(self._next_batch, rows, validator))

        # Four batches are in flight, each on its own resource: the one after next is
        # validated (pure CPU) in a thread, the next one prepared (its customers read on a
        # second connection, checked, folded and staged) while this one is written by
        # PostgreSQL, and the previous one placed in the queue by the callback.
        pending = validate_next()
        writing: asyncio.Future[BatchResult] | None = None
        placing: asyncio.Future[None] | None = None
        committed: BatchResult | None = None  # written, its placing not started yet
        try:
            good, bad, count = await pending
            if count:
                pending = validate_next()
                prepared = await self._prepare(upserter, good)
            while count:
                writing = asyncio.ensure_future(self._write(upserter, prepared, bad, count))
                # The write goes first: it reaches PostgreSQL before the placing and the next
                # batch's checks (CPU, not yielding) hold the event loop.
                await asyncio.sleep(0)
                if committed is not None:
                    placing = await self._place(placing, committed)
                    committed = None
                next_good, next_bad, next_count = await pending
                if next_count:
                    pending = validate_next()
                    if not prepared.external_ids.isdisjoint(r.external_id for r in next_good):
                        # A customer of this batch comes again: read it once it is written.
                        await asyncio.wait([writing])
                    next_prepared = await self._prepare(upserter, next_good)
                result = await writing
                writing = None
                self.processed += count
                self.accepted += result.accepted_rows
                if result.customer_ids:
                    committed = result
                good, bad, count = next_good, next_bad, next_count
                if count:
                    prepared = next_prepared
            if committed is not None:
                placing = await self._place(placing, committed)
            if placing is not None:
                await placing
        finally:
            for task in (pending, writing, placing):
                if task is not None and not task.done():
                    task.cancel()
                    with suppress(BaseException):
                        await task

        async with self.sessionmaker() as session:
            await session.execute(
                update(ImportJob)
                .where(ImportJob.id == self.import_id)
                .values(
                    status=ImportStatus.done,
                    total_rows=self.processed,
                    processed_rows=self.processed,
                    accepted_rows=self.accepted,
                    rejected_rows=len(self.rejected),
                    errors=stored_errors(self.rejected, self.warnings()),
                    payload=None,
                    finished_at=datetime.now(UTC),
                )
            )
            await session.commit()
        return ImportProgress(
            self.import_id,
            ImportStatus.done,
            self.processed,
            self.processed,
            self.accepted,
            len(self.rejected),
        )

    async def _place(
        self, placing: asyncio.Future[None] | None, result: BatchResult
    ) -> asyncio.Future[None] | None:
        """Starts placing a committed batch once the one before is placed (commit order)."""
        if self.on_batch is None:
            return None
        if placing is not None:
            await placing
        return asyncio.ensure_future(self.on_batch(result))

    async def _prepare(self, upserter: Upserter, good: list[CustomerRow]) -> PreparedBatch:
        async with self.sessionmaker() as session:
            prepared = await upserter.prepare(session, good)
            await session.commit()  # only segments a row names and that were missing
        return prepared

    async def _write(
        self, upserter: Upserter, prepared: PreparedBatch, bad: list[RowError], count: int
    ) -> BatchResult:
        """Writes a batch with the job's progress in one transaction; the rows it rejected
        are added to the import's."""
        mark = len(self.rejected)
        try:
            async with self.sessionmaker() as session:
                result = await upserter.write(session, prepared)
                errors = sorted([*bad, *result.errors], key=lambda e: e.line or 0)
                self.rejected.extend(e.as_dict() for e in errors)
                values: dict[str, Any] = {
                    "processed_rows": self.processed + count,
                    "accepted_rows": self.accepted + result.accepted_rows,
                    "rejected_rows": len(self.rejected),
                }
                flush = len(self.rejected) > self.flushed_errors and (
                    time.monotonic() - self.flushed_at >= ERRORS_FLUSH_INTERVAL_S
                )
                if flush:
                    values["errors"] = stored_errors(self.rejected, self.warnings())
                await session.execute(
                    update(ImportJob).where(ImportJob.id == self.import_id).values(**values)
                )
                await session.commit()
        except BaseException:
            del self.rejected[mark:]  # the batch was rolled back
            raise
        if flush:
            self.flushed_at, self.flushed_errors = time.monotonic(), len(self.rejected)
        return result

    def warnings(self) -> list[str]:
        found = [*self.source.warnings] if self.source else []
        return found + (self.validator.warnings if self.validator else [])

    def _next_batch(self, rows: Iterator[RawRow], validator: RowValidator) -> _Validated:
        good: list[CustomerRow] = []
        bad: list[RowError] = []
        count = 0
        for raw in rows:
            count += 1
            checked = validator.validate(raw)
            if isinstance(checked, RowError):
                bad.append(checked)
            else:
                good.append(checked)
            if count >= self.batch_size:
                break
        return good, bad, count

    async def fail(self, exc: BaseException) -> None:
        reason = str(exc) if isinstance(exc, ImportFileError) else f"{type(exc).__name__}: {exc}"
        if len(reason) > 500:
            reason = reason[:500] + "..."
        async with self.sessionmaker() as session:
            await session.execute(
                update(ImportJob)
                .where(ImportJob.id == self.import_id)
                .values(
                    status=ImportStatus.failed,
                    processed_rows=self.processed,
                    accepted_rows=self.accepted,
                    rejected_rows=len(self.rejected),
                    errors=stored_errors(self.rejected, self.warnings(), failure=reason),
                    finished_at=datetime.now(UTC),
                )
            )
            await session.commit()
