"""Outcomes record products, meetings and kept or passed follow-ups (rules 24, 29); the
versioned write holds on SQLite too."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.settings import Settings
from shared.membership.record import imported
from shared.membership.store import EngineStore, Extras
from shared.models import Base, BlockedPhone, Customer, Event, Meeting, Membership, Product
from tests.api.world import World
from tests.factories import create_assignment, create_flow, create_tenant


async def _outcome(world: World, card: dict[str, Any], **body: Any) -> Any:
    return await world.post(
        f"/v1/customers/{card['customer']['id']}/outcomes",
        lease_id=card["lease"]["id"],
        version=card["membership"]["version"],
        **body,
    )


async def _count(world: World, model: type[Base]) -> int:
    return int(await world.session.scalar(select(func.count()).select_from(model)) or 0)


class TestProductsAndMeetings:
    async def test_a_sale_records_its_products_and_meeting_with_the_event(
        self, world: World
    ) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        starts = datetime.now(UTC) + timedelta(days=3)
        r = await _outcome(
            world,
            card,
            code="sale",
            products=[
                {"name": "Broadband", "quantity": 2, "amount_minor": 49900, "currency": "NOK"},
                {"name": "TV package", "status": "offered"},
            ],
            meeting={"starts_at": starts.isoformat(), "location": "Oslo office"},
        )
        assert r.status_code == 200, r.text
        event_id = r.json()["event_id"]
        products = (await world.session.scalars(select(Product).order_by(Product.id))).all()
        assert [(p.name, p.status, p.quantity, p.amount_minor, p.event_id) for p in products] == [
            ("Broadband", "sold", 2, 49900, event_id),
            ("TV package", "offered", 1, 0, event_id),
        ]
        assert {p.customer_id for p in products} == {card["customer"]["id"]}
        meeting = await world.session.scalar(select(Meeting))
        assert meeting is not None
        assert (meeting.event_id, meeting.location, meeting.cancelled_at) == (
            event_id,
            "Oslo office",
            None,
        )
        assert abs((meeting.starts_at - starts).total_seconds()) < 1

    async def test_a_bad_product_writes_nothing(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        r = await _outcome(world, card, code="sale", products=[{"name": "X", "amount_minor": -1}])
        assert r.status_code == 422
        meeting_backwards = {
            "starts_at": "2030-01-02T10:00:00Z",
            "ends_at": "2030-01-02T09:00:00Z",
        }
        r = await _outcome(world, card, code="sale", meeting=meeting_backwards)
        assert r.status_code == 422
        assert "ends_at" in r.text
        assert await _count(world, Product) == 0
        assert await _count(world, Meeting) == 0
        outcomes = await world.session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "outcome")
        )
        assert outcomes == 0


class TestFollowUpKeptOrPassed:
    async def _with_followup_due(self, world: World, due: datetime) -> dict[str, Any]:
        (customer,) = await world.customers([{}])
        membership = await world.session.scalar(
            select(Membership).where(Membership.customer_id == customer.id)
        )
        assert membership is not None
        card = (await world.next()).json()
        membership.followup_at = due
        membership.followup_kind = "shared"
        await world.session.commit()
        card["membership"]["version"] = membership.version
        return card

    async def _handled(self, world: World, event_id: int) -> Any:
        event = await world.session.get(Event, event_id)
        assert event is not None
        return event.data.get("followup_handled")

    async def test_handled_in_time_is_kept(self, world: World) -> None:
        due = datetime.now(UTC) - timedelta(minutes=5)
        card = await self._with_followup_due(world, due)
        r = await _outcome(world, card, code="not_interested")
        assert r.status_code == 200, r.text
        handled = await self._handled(world, r.json()["event_id"])
        assert handled["kept"] is True
        assert handled["kind"] == "shared"

    async def test_handled_late_is_passed(self, world: World) -> None:
        due = datetime.now(UTC) - timedelta(hours=2)
        card = await self._with_followup_due(world, due)
        r = await _outcome(world, card, code="not_interested")
        assert r.status_code == 200, r.text
        assert (await self._handled(world, r.json()["event_id"]))["kept"] is False

    async def test_a_followup_far_ahead_is_not_handled_yet(self, world: World) -> None:
        due = datetime.now(UTC) + timedelta(days=1)
        card = await self._with_followup_due(world, due)
        r = await _outcome(world, card, code="not_interested")
        assert r.status_code == 200, r.text
        assert await self._handled(world, r.json()["event_id"]) is None


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(data_dir=tmp_path), process_name="tests")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


class TestVersionedWriteOnSqlite:
    """The embedded default has no UPDATE inside WITH: the same write in three statements."""

    async def test_writes_at_the_version_and_refuses_a_stale_one(
        self, sqlite_engine: AsyncEngine
    ) -> None:
        assert sqlite_engine.dialect.name == "sqlite"
        async with create_sessionmaker(sqlite_engine)() as session:
            tenant = await create_tenant(session)
            flow = await create_flow(session, tenant)
            assignment = await create_assignment(session, tenant, flow)
            customer = Customer(tenant_id=tenant.id, external_id="c1", phone_1="+4722334455")
            session.add(customer)
            await session.flush()
            stored = Membership(
                tenant_id=tenant.id,
                customer_id=customer.id,
                assignment_id=assignment.id,
                state="free",
            )
            session.add_all([stored, BlockedPhone(tenant_id=tenant.id, phone="+4722334455")])
            await session.commit()
            ids = (tenant.id, customer.id, assignment.id, stored.id)
        tenant_id, customer_id, assignment_id, membership_id = ids
        changed = replace(
            imported(
                id=membership_id,
                tenant_id=tenant_id,
                customer_id=customer_id,
                assignment_id=assignment_id,
                segment_id=None,
                state="sale",
            ),
            state_set_by="user",
            version=2,
        )
        store = EngineStore(sqlite_engine)
        event: dict[str, Any] = {
            "tenant_id": tenant_id,
            "customer_id": customer_id,
            "assignment_id": assignment_id,
            "user_id": None,
            "kind": "outcome",
            "code": "sale",
            "from_state": "free",
            "to_state": "sale",
            "comment": "",
            "data": {},
            "created_at": datetime.now(UTC),
        }
        extras = Extras(products=[{"name": "Broadband", "status": "sold", "quantity": 1}])
        written = await store.write_versioned(
            changed,
            version=1,
            event=event,
            phones=["+4722334455"],
            extras=extras,
        )
        assert written is not None
        assert written.bar_mask == 1  # its one number, on the blocklist
        stale = await store.write_versioned(changed, version=1, event=event, phones=["+4722334455"])
        assert stale is None
        async with create_sessionmaker(sqlite_engine)() as session:
            membership = await session.get(Membership, membership_id)
            assert membership is not None
            assert (membership.state, membership.version) == ("sale", 2)
            events = (await session.scalars(select(Event))).all()
            assert [e.id for e in events] == [written.event_id]
            product = await session.scalar(select(Product))
            assert product is not None and product.event_id == written.event_id
