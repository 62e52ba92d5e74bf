"""Running whole imports: batches, progress, rejected rows, the queue, running again."""

import json

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue, Claimed
from shared import importing
from shared.importing import ImportFileError, ImportFormat
from shared.models import (
    Customer,
    Event,
    FieldType,
    ImportJob,
    ImportStatus,
    Membership,
    Segment,
)
from tests.importing.conftest import Target, add_field, create_import, run_file

BROKEN_CSV = b"""external_id,first_name,phone_1,score,member_no
c1,Ada,+47 22 33 44 55,10,M1
c2,Bob,12,5,M2
,Cid,+4722334456,3,M3
c4,Dan,+4722334457
c5,Eve,+4722334458,lots,M5
c6,Fay,+4722334459,7,M1
c7,Gus,+4722334460,8,M7
"""


class TestRunImport:
    async def test_keeps_the_good_rows_of_a_csv_and_reports_each_bad_one(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        await add_field(session, target.tenant, "score", FieldType.number)
        await add_field(session, target.tenant, "member_no", unique_if_filled=True)

        job = await run_file(sessionmaker, target, BROKEN_CSV)

        assert job.status == ImportStatus.done
        assert (job.total_rows, job.processed_rows, job.accepted_rows, job.rejected_rows) == (
            7,
            7,
            2,
            5,
        )
        errors = importing.rejected_rows_of(job)
        assert [(e["line"], e["external_id"]) for e in errors] == [
            (3, "c2"),
            (4, None),
            (5, "c4"),
            (6, "c5"),
            (7, "c6"),
        ]
        reasons = [e["reason"] for e in errors]
        assert reasons[0].startswith("phone_1: '12' is not")
        assert reasons[1] == "external_id is missing"
        assert reasons[2] == "expected 5 fields as in the header, found 3"
        assert reasons[3] == "score: 'lots' is not a number"
        assert "already used by customer 'c1'" in reasons[4]
        customers = (await session.scalars(select(Customer).order_by(Customer.id))).all()
        assert [(c.external_id, c.phone_1, c.custom) for c in customers] == [
            ("c1", "+4722334455", {"score": 10, "member_no": "M1"}),
            ("c7", "+4722334460", {"score": 8, "member_no": "M7"}),
        ]
        assert sorted(target.placed) == [c.id for c in customers]

    async def test_imports_json(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        rows = [
            {"external_id": "c1", "first_name": "Ada", "phones": ["22334455"], "segment": "VIP"},
            {"external_id": 2, "email": "bob@example.no", "time_zone": "Europe/Oslo"},
            {"first_name": "nobody"},
        ]
        job = await run_file(sessionmaker, target, json.dumps(rows).encode(), ImportFormat.json)
        assert (job.accepted_rows, job.rejected_rows) == (2, 1)
        assert importing.rejected_rows_of(job) == [
            {"line": 3, "external_id": None, "reason": "external_id is missing"}
        ]
        customers = (await session.scalars(select(Customer).order_by(Customer.id))).all()
        assert [(c.external_id, c.phone_1, c.email) for c in customers] == [
            ("c1", "+4722334455", None),
            ("2", None, "bob@example.no"),
        ]

    async def test_places_the_imported_customers_in_the_queue(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
        redis: Redis,
    ) -> None:
        await run_file(sessionmaker, target, b"external_id,first_name\nc1,Ada\n", redis=redis)
        claimed = await AssignmentQueue(redis, target.assignment.id).claim(
            user_id=1, lease_seconds=60
        )
        assert isinstance(claimed, Claimed)
        assert claimed.customer_id == target.placed[0]

    async def test_commits_and_reports_progress_batch_by_batch(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        payload = b"external_id\n" + b"".join(b"c%d\n" % i for i in range(25))
        seen: list[tuple[int, int]] = []
        async with sessionmaker() as s:
            job = await create_import(s, target, payload)

        async def committed(customer_ids: list[int]) -> None:
            async with sessionmaker() as s:
                stored = await s.get(ImportJob, job.id)
                assert stored is not None
                seen.append((len(customer_ids), stored.processed_rows))

        await importing.run_import(
            sessionmaker, job.id, on_batch_committed=committed, batch_size=10
        )
        assert [size for size, _ in seen] == [10, 10, 5]
        # Each batch's progress was committed with it, before its customers were placed.
        assert all(
            processed >= done for (_, processed), done in zip(seen, [10, 20, 25], strict=True)
        )
        assert await session.scalar(select(func.count()).select_from(Membership)) == 25

    async def test_a_customer_in_several_batches_is_read_after_its_earlier_rows_are_written(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        # Batches of two: c1 comes again two batches later (prepared while the batch between
        # is written), c5 in the very next batch (prepared only once its first row is in).
        payload = (
            b"external_id,first_name,segment\nc1,Ada,North\nc2,Bob,\nc3,Cid,\nc4,Dan,\n"
            b"c1,Ada2,South\nc5,Eve,North\nc5,Eve2,South\n"
        )
        job = await run_file(sessionmaker, target, payload, batch_size=2)

        assert (job.processed_rows, job.accepted_rows, job.rejected_rows) == (7, 7, 0)
        members = (
            await session.execute(
                select(Customer.external_id, Customer.first_name, Segment.name)
                .join(Membership, Membership.customer_id == Customer.id)
                .outerjoin(Segment, Segment.id == Membership.segment_id)
                .order_by(Membership.id)
            )
        ).all()
        assert [tuple(m) for m in members] == [
            ("c1", "Ada2", "South"),
            ("c2", "Bob", None),
            ("c3", "Cid", None),
            ("c4", "Dan", None),
            ("c5", "Eve2", "South"),
        ]
        assert await session.scalar(select(func.count()).select_from(Event)) == 5

    async def test_reports_unknown_columns_once_as_warnings(
        self, sessionmaker: async_sessionmaker[AsyncSession], target: Target
    ) -> None:
        job = await run_file(sessionmaker, target, b"external_id,colour\nc1,red\nc2,blue\n")
        assert importing.warnings_of(job) == [
            "column 'colour' is not a customer field and was ignored"
        ]
        assert job.accepted_rows == 2

    async def test_a_finished_import_is_not_run_again(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        job = await run_file(sessionmaker, target, b"external_id\nc1\n")
        # The file is dropped once imported.
        assert await session.scalar(select(ImportJob.payload).where(ImportJob.id == job.id)) is None
        progress = await importing.run_import(sessionmaker, job.id)
        assert (progress.status, progress.accepted_rows) == (ImportStatus.done, 1)
        assert await session.scalar(select(func.count()).select_from(Event)) == 1

    async def test_an_interrupted_import_run_again_imports_each_row_once(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        payload = b"external_id,first_name\nc1,Ada\nc2,Bob\n"
        async with sessionmaker() as s:
            job = await create_import(s, target, payload)
        await importing.run_import(sessionmaker, job.id, batch_size=1)
        # As if the worker died after the first batch: running again, file still stored.
        await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id)
            .values(status=ImportStatus.running, processed_rows=1, payload=payload)
        )
        await session.commit()

        progress = await importing.run_import(sessionmaker, job.id)

        assert (progress.status, progress.processed_rows, progress.accepted_rows) == (
            ImportStatus.done,
            2,
            2,
        )
        assert await session.scalar(select(func.count()).select_from(Customer)) == 2
        assert await session.scalar(select(func.count()).select_from(Event)) == 2

    async def test_an_unreadable_stored_file_fails_the_import_with_the_reason(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        async with sessionmaker() as s:
            job = await create_import(s, target, b"id,name\n1,Ada\n")
        with pytest.raises(ImportFileError):
            await importing.run_import(sessionmaker, job.id)
        stored = await session.get(ImportJob, job.id)
        assert stored is not None
        assert stored.status == ImportStatus.failed
        assert importing.failure_of(stored) == "the file has no external_id column"

    async def test_an_unknown_import_is_not_found(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        with pytest.raises(importing.ImportNotFound):
            await importing.run_import(sessionmaker, 404)


class TestCrmFields:
    async def test_imports_account_type_city_and_the_folded_name(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        payload = (
            "external_id,first_name,last_name,account_type,city\n"
            "c1,Hélène,Ødegård,business,Bergen\n"
            f"c2,Bob,Berg,{'x' * 51},Oslo\n"
            "c3,Cid,,,\n"
        ).encode()
        job = await run_file(sessionmaker, target, payload)

        assert importing.rejected_rows_of(job) == [
            {"line": 3, "external_id": "c2", "reason": "account_type is longer than 50 characters"}
        ]
        customers = (await session.scalars(select(Customer).order_by(Customer.id))).all()
        assert [(c.external_id, c.account_type, c.city, c.search_name) for c in customers] == [
            ("c1", "business", "Bergen", "helene odegard"),
            ("c3", "", "", "cid"),
        ]

    async def test_an_update_keeps_the_folded_name_up_to_date(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: Target,
    ) -> None:
        await run_file(sessionmaker, target, b"external_id,first_name,city\nc1,Ada,Oslo\n")
        await run_file(sessionmaker, target, "external_id,last_name\nc1,Ærø\n".encode())

        customer = await session.scalar(select(Customer))
        assert customer is not None
        assert (customer.first_name, customer.city, customer.search_name) == (
            "Ada",
            "Oslo",
            "ada aero",
        )
