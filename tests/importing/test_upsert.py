"""Writing validated rows: upsert by external id, memberships, events, segments, rules 2 and 6."""

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.demo import SEED_FLOW
from shared.importing import (
    ACTIVE_ELSEWHERE,
    BatchResult,
    CustomerRow,
    FieldRule,
    FieldRules,
    ImportTarget,
    Upserter,
)
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.settings import Settings
from shared.models import (
    Assignment,
    Base,
    Customer,
    Event,
    FieldType,
    Flow,
    Membership,
    Segment,
    Tenant,
)
from tests.factories import create_assignment, create_tenant
from tests.importing.conftest import Target


def import_target(
    tenant_id: int, assignment_id: int, rules: FieldRules | None = None
) -> ImportTarget:
    return ImportTarget(
        tenant_id=tenant_id,
        assignment_id=assignment_id,
        initial_state="free",
        rules=rules or FieldRules(),
        user_id=None,
        import_id=None,
    )


def row(line: int, external_id: str, segment: str | None = None, **fields: Any) -> CustomerRow:
    custom = fields.pop("custom", {})
    return CustomerRow(line, external_id, dict(fields), dict(custom), segment)


async def write(
    session: AsyncSession, upserter: Upserter, rows: Sequence[CustomerRow]
) -> BatchResult:
    result = await upserter.upsert(session, rows)
    await session.commit()
    return result


async def customers_of(session: AsyncSession, tenant: Tenant) -> list[Customer]:
    found = await session.scalars(
        select(Customer).where(Customer.tenant_id == tenant.id).order_by(Customer.id)
    )
    return list(found.all())


async def membership_of(session: AsyncSession, customer_id: int) -> Membership:
    membership = await session.scalar(
        select(Membership).where(Membership.customer_id == customer_id)
    )
    assert membership is not None
    return membership


UNIQUE_MEMBER_NO = FieldRules(
    {"member_no": FieldRule("member_no", FieldType.text, unique_if_filled=True)}
)


class TestUpserter:
    async def test_inserts_customers_as_free_members_with_an_imported_event(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        result = await write(
            session, upserter, [row(2, "c1", first_name="Ada"), row(3, "c2", last_name="Byron")]
        )
        customers = await customers_of(session, target.tenant)
        assert [(c.external_id, c.first_name, c.last_name) for c in customers] == [
            ("c1", "Ada", ""),
            ("c2", "", "Byron"),
        ]
        assert sorted(result.customer_ids) == [c.id for c in customers]
        assert (result.accepted_rows, result.created_customers, result.new_memberships) == (2, 2, 2)
        membership = await membership_of(session, customers[0].id)
        assert (membership.assignment_id, membership.state, membership.segment_id) == (
            target.assignment.id,
            "free",
            None,
        )
        events = (await session.scalars(select(Event).order_by(Event.id))).all()
        assert [(e.customer_id, e.kind, e.to_state) for e in events] == [
            (customers[0].id, "imported", "free"),
            (customers[1].id, "imported", "free"),
        ]

    async def test_updates_an_existing_customer_by_external_id_without_duplicating(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        await write(session, upserter, [row(2, "c1", first_name="Ada", email="ada@x.no")])
        result = await write(session, upserter, [row(2, "c1", first_name="Augusta")])
        customers = await customers_of(session, target.tenant)
        assert len(customers) == 1
        await session.refresh(customers[0])
        # Given fields change; fields the row leaves empty keep their value.
        assert (customers[0].first_name, customers[0].email) == ("Augusta", "ada@x.no")
        assert (result.accepted_rows, result.created_customers, result.new_memberships) == (1, 0, 0)
        assert await session.scalar(select(func.count()).select_from(Event)) == 1

    async def test_a_customer_of_another_tenant_is_another_customer(
        self, session: AsyncSession, target: Target
    ) -> None:
        other = await create_tenant(session, name="Globex")
        other_assignment = await create_assignment(
            session, other, await _flow(session, other), name="Theirs"
        )
        await write(session, Upserter(import_target(other.id, other_assignment.id)), [row(2, "c1")])
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        result = await write(session, upserter, [row(2, "c1", first_name="Ada")])
        assert result.created_customers == 1
        assert len(await customers_of(session, other)) == 1

    async def test_a_customer_active_in_another_assignment_is_not_moved(
        self, session: AsyncSession, target: Target
    ) -> None:
        other = await create_assignment(session, target.tenant, target.flow, name="Spring")
        await write(session, Upserter(import_target(target.tenant.id, other.id)), [row(2, "c1")])
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        result = await write(session, upserter, [row(7, "c1", first_name="Ada"), row(8, "c2")])
        assert [(e.line, e.external_id, e.reason) for e in result.errors] == [
            (7, "c1", ACTIVE_ELSEWHERE)
        ]
        customers = await customers_of(session, target.tenant)
        assert customers[0].first_name == ""  # a rejected row writes nothing
        assert (await membership_of(session, customers[0].id)).assignment_id == other.id
        assert result.customer_ids == [customers[1].id]

    async def test_a_member_of_this_assignment_keeps_its_state_and_history(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        await write(session, upserter, [row(2, "c1")])
        customer = (await customers_of(session, target.tenant))[0]
        membership = await membership_of(session, customer.id)
        membership.state, membership.attempts, membership.version = "interested", 2, 5
        await session.commit()
        result = await write(session, Upserter(upserter.target), [row(2, "c1", first_name="Ada")])
        await session.refresh(membership)
        assert (membership.state, membership.attempts, membership.version) == ("interested", 2, 5)
        assert result.new_memberships == 0
        assert result.customer_ids == [customer.id]
        assert await session.scalar(select(func.count()).select_from(Event)) == 1

    async def test_creates_a_named_segment_once_and_puts_members_in_it(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        await write(session, upserter, [row(2, "c1", "North"), row(3, "c2", "North")])
        await write(session, Upserter(upserter.target), [row(2, "c3", "North")])
        segments = (await session.scalars(select(Segment))).all()
        assert [(s.assignment_id, s.name) for s in segments] == [(target.assignment.id, "North")]
        members = (await session.scalars(select(Membership))).all()
        assert {m.segment_id for m in members} == {segments[0].id}

    async def test_a_member_moves_to_the_segment_its_row_names_keeping_its_state(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        await write(session, upserter, [row(2, "c1", "North")])
        await write(session, upserter, [row(2, "c1", "South")])
        customer = (await customers_of(session, target.tenant))[0]
        membership = await membership_of(session, customer.id)
        segment = await session.get(Segment, membership.segment_id)
        assert segment is not None and segment.name == "South"
        assert membership.state == "free"
        await write(session, upserter, [row(2, "c1", "unsegmented")])
        await session.refresh(membership)
        assert membership.segment_id is None

    async def test_unique_if_filled_holds_across_the_tenant(
        self, session: AsyncSession, target: Target
    ) -> None:
        rules = UNIQUE_MEMBER_NO
        await write(
            session,
            Upserter(import_target(target.tenant.id, target.assignment.id, rules)),
            [row(2, "c1", custom={"member_no": "M1"})],
        )
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id, rules))
        result = await write(
            session,
            upserter,
            [row(2, "c2", custom={"member_no": "M1"}), row(3, "c1", custom={"member_no": "M1"})],
        )
        assert [(e.line, e.external_id) for e in result.errors] == [(2, "c2")]
        assert "already used by customer 'c1'" in result.errors[0].reason
        assert result.accepted_rows == 1  # a customer may keep its own value

    async def test_unique_if_filled_holds_within_the_file(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id, UNIQUE_MEMBER_NO))
        await write(session, upserter, [row(2, "c1", custom={"member_no": "M1"})])
        result = await write(session, upserter, [row(3, "c2", custom={"member_no": "M1"})])
        assert [(e.line, e.external_id) for e in result.errors] == [(3, "c2")]

    async def test_a_value_given_up_by_one_customer_may_be_taken_by_another(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id, UNIQUE_MEMBER_NO))
        await write(session, upserter, [row(2, "c1", custom={"member_no": "M1"})])
        result = await write(
            session,
            upserter,
            [row(2, "c1", custom={"member_no": "M2"}), row(3, "c2", custom={"member_no": "M1"})],
        )
        assert result.errors == []

    async def test_a_required_custom_field_must_be_filled(
        self, session: AsyncSession, target: Target
    ) -> None:
        rules = FieldRules({"region": FieldRule("region", FieldType.text, required=True)})
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id, rules))
        result = await write(
            session, upserter, [row(2, "c1"), row(3, "c2", custom={"region": "N"})]
        )
        assert [(e.line, e.reason) for e in result.errors] == [
            (2, "custom field 'region' is required")
        ]
        # An existing customer that has the field may leave it out.
        result = await write(session, upserter, [row(2, "c2", first_name="Ada")])
        assert result.errors == []

    async def test_two_rows_of_one_customer_in_a_batch_apply_in_order(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        result = await write(
            session,
            upserter,
            [row(2, "c1", first_name="Ada", email="a@x.no"), row(3, "c1", first_name="Augusta")],
        )
        customers = await customers_of(session, target.tenant)
        assert [(c.first_name, c.email) for c in customers] == [("Augusta", "a@x.no")]
        assert (result.accepted_rows, result.new_memberships) == (2, 1)

    async def test_merges_custom_fields_with_the_stored_ones(
        self, session: AsyncSession, target: Target
    ) -> None:
        upserter = Upserter(import_target(target.tenant.id, target.assignment.id))
        await write(session, upserter, [row(2, "c1", custom={"a": 1, "b": "x"})])
        await write(session, upserter, [row(2, "c1", custom={"b": "y"})])
        customer = (await customers_of(session, target.tenant))[0]
        await session.refresh(customer)
        assert customer.custom == {"a": 1, "b": "y"}


async def _flow(session: AsyncSession, tenant: Tenant) -> Flow:
    flow = Flow(
        tenant_id=tenant.id,
        name="Sales",
        states=SEED_FLOW["states"],
        outcomes=SEED_FLOW["outcomes"],
    )
    session.add(flow)
    await session.commit()
    return flow


@pytest.fixture
async def sqlite_session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    """The embedded default's database: SQLite, with the same tables."""
    engine = create_engine(Settings(data_dir=tmp_path), process_name="tests")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


class TestUpserterOnSqlite:
    async def test_inserts_updates_and_rejects_as_on_postgresql(
        self, sqlite_session: AsyncSession
    ) -> None:
        session = sqlite_session
        tenant = Tenant(name="Acme")
        session.add(tenant)
        await session.commit()
        flow = await _flow(session, tenant)
        here = Assignment(tenant_id=tenant.id, flow_id=flow.id, name="Here")
        there = Assignment(tenant_id=tenant.id, flow_id=flow.id, name="There")
        session.add_all([here, there])
        await session.commit()
        await write(session, Upserter(import_target(tenant.id, there.id)), [row(2, "x1")])

        upserter = Upserter(import_target(tenant.id, here.id, UNIQUE_MEMBER_NO))
        first = await write(
            session, upserter, [row(2, "c1", "North", custom={"member_no": "M1"}), row(3, "x1")]
        )
        second = await write(
            session,
            upserter,
            [row(2, "c1", first_name="Ada"), row(3, "c2", custom={"member_no": "M1"})],
        )

        assert [e.reason for e in first.errors] == [ACTIVE_ELSEWHERE]
        assert [e.external_id for e in second.errors] == ["c2"]
        customers = await customers_of(session, tenant)
        assert [(c.external_id, c.first_name, c.custom) for c in customers] == [
            ("x1", "", {}),
            ("c1", "Ada", {"member_no": "M1"}),
        ]
        membership = await membership_of(session, customers[1].id)
        assert (membership.assignment_id, membership.state) == (here.id, "free")
        assert await session.scalar(select(func.count()).select_from(Event)) == 2
