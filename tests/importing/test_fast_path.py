"""The PostgreSQL COPY path against the portable one, and placing new members without
reading them back."""

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.worker.jobs.imports import import_customers
from shared.customers.search import search_name as reference_search_name
from shared.flows import FlowSpec
from shared.importing import CsvSource, FieldRule, FieldRules, ImportTarget, RowError, Upserter
from shared.importing.folding import search_name
from shared.importing.placing import new_member_facts
from shared.importing.validation import RowValidator
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.settings import Settings
from shared.membership.placement import load_queue_facts
from shared.models import (
    Assignment,
    Base,
    Customer,
    Event,
    FieldType,
    ImportJob,
    ImportStatus,
    Membership,
    Segment,
    Tenant,
)
from tests.factories import create_assignment, create_flow, create_tenant
from tests.importing.conftest import Target, create_import

RULES = FieldRules(
    {
        "member_no": FieldRule("member_no", FieldType.text, unique_if_filled=True),
        "score": FieldRule("score", FieldType.number),
    }
)
FIRST = b"""external_id,first_name,last_name,phone_1,time_zone,segment,member_no,score
c1,Ada,L\xc3\xb8vlace,+4722334455,Europe/Oslo,North,M1,3
c2,Bo,,not a phone,,,,
c3,\xc3\x85se,\xc3\x98deg\xc3\xa5rd,,,South,M1,
c4,,,,UTC,unsegmented,M4,1.5
x1,Xia,,,,,,
"""
SECOND = b"""external_id,first_name,city,segment,member_no
c1,Ada Maria,Oslo,South,
c4,,,North,M1
c5,Eve,Bergen,,M5
"""


@pytest.fixture
async def sqlite_sessionmaker(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(Settings(data_dir=tmp_path), process_name="tests")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def import_files(session: AsyncSession) -> tuple[list[Any], list[RowError]]:
    """FIRST then SECOND into a fresh tenant's assignment ("x1" is active in another one);
    everything the import wrote, without ids and times, and the rejected rows."""
    tenant = Tenant(name="Acme")
    session.add(tenant)
    await session.commit()
    flow = await create_flow(session, tenant)
    here = Assignment(tenant_id=tenant.id, flow_id=flow.id, name="Here")
    there = Assignment(tenant_id=tenant.id, flow_id=flow.id, name="There")
    session.add_all([here, there])
    await session.commit()
    elsewhere = ImportTarget(tenant.id, there.id, "free", FieldRules())
    await Upserter(elsewhere).upsert(session, _valid(b"external_id\nx1\n", [])[0])
    await session.commit()

    upserter = Upserter(ImportTarget(tenant.id, here.id, "free", RULES, None, 7))
    errors: list[RowError] = []
    for payload in (FIRST, SECOND):
        good, bad = _valid(payload, errors)
        result = await upserter.upsert(session, good)
        await session.commit()
        errors += bad + result.errors
    return await _contents(session, tenant.id), errors


def _valid(payload: bytes, errors: list[RowError]) -> tuple[list[Any], list[RowError]]:
    validator = RowValidator(RULES)
    checked = [validator.validate(raw) for raw in CsvSource(payload).rows()]
    return [c for c in checked if not isinstance(c, RowError)], [
        c for c in checked if isinstance(c, RowError)
    ]


async def _contents(session: AsyncSession, tenant_id: int) -> list[Any]:
    customers = await session.execute(
        select(Customer, Membership, Segment.name)
        .outerjoin(Membership, Membership.customer_id == Customer.id)
        .outerjoin(Segment, Segment.id == Membership.segment_id)
        .where(Customer.tenant_id == tenant_id)
        .order_by(Customer.external_id)
    )
    events = await session.execute(
        select(Customer.external_id, Event.kind, Event.to_state, Event.data)
        .join(Customer, Customer.id == Event.customer_id)
        .where(Event.tenant_id == tenant_id)
        .order_by(Event.id)
    )
    segments = {s.id: s.name for s in await session.scalars(select(Segment))}
    return [
        [
            (
                c.external_id,
                c.first_name,
                c.last_name,
                c.phone_1,
                c.time_zone,
                c.city,
                c.search_name,
                c.custom,
                m.state if m else None,
                m.attempts if m else None,
                segment,
            )
            for c, m, segment in customers
        ],
        [
            (external_id, kind, to_state, data["import_id"], segments.get(data["segment_id"]))
            for external_id, kind, to_state, data in events
        ],
    ]


class TestCopyPath:
    async def test_postgresql_and_sqlite_write_the_same_and_reject_the_same_lines(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sqlite_sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        async with sessionmaker() as session:
            on_postgresql, pg_errors = await import_files(session)
        async with sqlite_sessionmaker() as session:
            on_sqlite, sqlite_errors = await import_files(session)

        assert on_postgresql == on_sqlite
        assert [e.as_dict() for e in pg_errors] == [e.as_dict() for e in sqlite_errors]
        assert [(e.line, e.external_id) for e in pg_errors] == [
            (3, "c2"),  # not a phone
            (4, "c3"),  # M1 is c1's
            (6, "x1"),  # active in another assignment
            (3, "c4"),  # M1 still c1's: an empty cell does not give it up
        ]
        customers, events = on_postgresql
        assert [c[0] for c in customers] == ["c1", "c4", "c5", "x1"]
        assert customers[0][1:3] == ("Ada Maria", "Løvlace")
        assert customers[0][6] == "ada maria lovlace"
        assert customers[0][-1] == "South"  # moved by the second file
        assert [e[0] for e in events] == ["x1", "c1", "c4", "c5"]
        assert events[1] == ("c1", "imported", "free", 7, "North")


class TestPlacingNewMembers:
    @pytest.mark.parametrize(
        "sort_keys",
        [[], [{"key": "custom:score", "direction": "desc"}, {"key": "import_order"}]],
    )
    async def test_new_member_facts_are_those_read_back(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        sort_keys: list[dict[str, Any]],
    ) -> None:
        tenant = await create_tenant(session)
        flow = await create_flow(session, tenant)
        assignment = await create_assignment(session, tenant, flow)
        assignment.sort_keys = sort_keys
        assignment.attempt_limit = 3
        await session.commit()
        spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
        target = ImportTarget(tenant.id, assignment.id, spec.initial_state, RULES)
        good, _ = _valid(FIRST.replace(b"M1,\n", b"M3,\n"), [])
        result = await Upserter(target).upsert(session, good)
        await session.commit()

        placed = new_member_facts(result.new_members, assignment, spec, default_country="NO")
        read_back = [
            facts
            async for batch in load_queue_facts(
                session, assignment, spec, customer_ids=result.customer_ids
            )
            for facts in batch
        ]
        assert len(placed) == 4
        by_customer = {f.customer_id: f for f in read_back}
        assert placed == [by_customer[f.customer_id] for f in placed]

    async def test_the_worker_places_new_and_existing_members_and_reports_bad_lines(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        target: Target,
    ) -> None:
        async with sessionmaker() as s:
            first = await create_import(s, target, b"external_id,first_name\nc1,Ada\n")
        await import_customers(first.id, sessionmaker=sessionmaker, redis=redis)
        queue = AssignmentQueue(redis, target.assignment.id)
        await redis.flushdb()  # c1 is placed again only if the second import reads it back
        payload = b"external_id,first_name,phone_1\nc1,Ada,\nc2,Bo,nope\nc3,Cy,\n"
        async with sessionmaker() as s:
            second = await create_import(s, target, payload)

        progress = await import_customers(second.id, sessionmaker=sessionmaker, redis=redis)

        assert progress is not None and progress.status == ImportStatus.done
        assert (progress.accepted_rows, progress.rejected_rows) == (2, 1)
        async with sessionmaker() as s:
            stored = await s.get(ImportJob, second.id)
            assert stored is not None
            assert [(e["line"], e["external_id"]) for e in stored.errors if "line" in e] == [
                (3, "c2")
            ]
            found = await s.execute(select(Customer.external_id, Customer.id))
            ids = {external_id: id_ for external_id, id_ in found}
        assert (await queue.depth())["free"] == 2
        assert await queue.placement_of(ids["c1"]) is not None
        assert await queue.placement_of(ids["c3"]) is not None


def test_the_folded_name_is_shared_search_names() -> None:
    letters = "aZ Åøæß éÉ\u0301\u00a0\tΣς½ﬁǄ-\u3000"
    rng = random.Random(5)
    for _ in range(20_000):
        first = "".join(rng.choice(letters) for _ in range(rng.randint(0, 6)))
        last = "".join(rng.choice(letters) for _ in range(rng.randint(0, 6)))
        assert search_name(first, last) == reference_search_name(first, last)
