"""The tenant's privacy record and anonymisation of a customer (rule 5)."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.worker.jobs.rebuild import rebuild_queue
from shared.models import Customer, Event, Meeting, Membership, Permission, Product, Tenant
from tests.api.world import World
from tests.factories import create_tenant, create_user

ADMIN = [Permission.administrator.value]


class TestPrivacy:
    async def test_anyone_reads_and_only_an_administrator_writes(self, world: World) -> None:
        _, admin = await create_user(world.session, world.tenant, permissions=ADMIN)
        agent = world.auth(world.agents[0][1])
        new = {"data_controller": "Acme Holding AS", "processing_purpose": "Customer care"}

        read = await world.client.get("/v1/tenant/privacy", headers=agent)
        denied = await world.client.put("/v1/tenant/privacy", json=new, headers=agent)
        written = await world.client.put("/v1/tenant/privacy", json=new, headers=world.auth(admin))
        again = await world.client.get("/v1/tenant/privacy", headers=agent)

        assert read.json() == {"data_controller": "Acme AS", "processing_purpose": "Sales"}
        assert denied.status_code == 403
        assert written.status_code == 200 and again.json() == new
        other = await create_tenant(world.session, name="Other")
        await world.session.refresh(other)
        assert other.data_controller == "Acme AS"  # the factory's, untouched by the write

    async def test_bad_input_is_refused(self, world: World) -> None:
        _, admin = await create_user(world.session, world.tenant, permissions=ADMIN)

        r = await world.client.put(
            "/v1/tenant/privacy",
            json={"data_controller": "x" * 301, "processing_purpose": "ok"},
            headers=world.auth(admin),
        )

        assert r.status_code == 422
        tenant = await world.session.get(Tenant, world.tenant.id, populate_existing=True)
        assert tenant is not None and tenant.data_controller == "Acme AS"


async def _stored(world: World, customer_id: int) -> Customer:
    customer = await world.session.get(Customer, customer_id, populate_existing=True)
    assert customer is not None
    return customer


class TestAnonymise:
    async def test_blanks_personal_fields_and_keeps_what_reports_count(
        self, world: World, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        _, admin = await create_user(world.session, world.tenant, permissions=ADMIN)
        c, other = await world.customers(
            [
                {
                    "first_name": "Åse",
                    "last_name": "Ødegård",
                    "phone_1": "+4722334455",
                    "email": "ase@example.no",
                    "city": "Bergen",
                    "custom": {"note": "x"},
                },
                {},
            ]
        )
        base = {"tenant_id": world.tenant.id, "customer_id": c.id}
        world.session.add_all(
            [
                Event(**base, kind="outcome", code="sale", comment="Åse wants fibre"),
                Event(
                    **base,
                    kind="customer_edited",
                    data={"changes": {"city": {"old": "Oslo", "new": "Bergen"}}},
                ),
                Product(**base, name="Fibre", status="sold", amount_minor=100),
                Meeting(**base, starts_at=c.created_at, location="Åse's home", note="ring bell"),
            ]
        )
        await world.session.commit()
        queue = AssignmentQueue(world.redis, world.assignment.id)

        r = await world.client.post(f"/v1/customers/{c.id}/anonymise", headers=world.auth(admin))

        assert r.status_code == 200, r.text
        assert r.json()["external_id"] == f"anon-{c.id}"
        stored = await _stored(world, c.id)
        assert (stored.first_name, stored.last_name, stored.search_name, stored.city) == (
            "",
            "",
            "",
            "",
        )
        assert (stored.phone_1, stored.email, stored.custom) == (None, None, {})
        assert stored.anonymised_at is not None
        events = list(
            await world.session.scalars(
                select(Event)
                .where(Event.customer_id == c.id)
                .order_by(Event.id)
                .execution_options(populate_existing=True)
            )
        )
        assert [e.kind for e in events] == ["outcome", "customer_edited", "anonymised"]
        assert events[0].code == "sale" and events[0].comment == ""
        assert events[1].data == {"fields": ["city"]}
        assert events[2].data == {} and events[2].user_id is not None
        meeting = await world.session.scalar(
            select(Meeting).execution_options(populate_existing=True)
        )
        assert meeting is not None and (meeting.location, meeting.note) == ("", "")
        for model in (Membership, Product):
            count = await world.session.scalar(select(func.count()).select_from(model))
            assert count == (2 if model is Membership else 1)
        # Out of the queue, and a rebuild from PostgreSQL keeps it out.
        assert await queue.placement_of(c.id) is None
        await rebuild_queue(world.assignment.id, sessionmaker=sessionmaker, redis=world.redis)
        assert await queue.placement_of(c.id) is None
        assert await queue.placement_of(other.id) is not None
        again = await world.client.post(
            f"/v1/customers/{c.id}/anonymise", headers=world.auth(admin)
        )
        assert again.status_code == 409
        edit = await world.client.patch(
            f"/v1/customers/{c.id}", json={"first_name": "Åse"}, headers=world.auth(admin)
        )
        assert edit.status_code == 409

    async def test_a_held_customer_is_refused_naming_the_holder(self, world: World) -> None:
        _, admin = await create_user(world.session, world.tenant, permissions=ADMIN)
        (c,) = await world.customers([{"first_name": "Kari"}])
        assert (await world.next(agent=1)).json()["customer"]["id"] == c.id

        r = await world.client.post(f"/v1/customers/{c.id}/anonymise", headers=world.auth(admin))

        assert r.status_code == 409
        assert "Agent 1" in r.json()["detail"]
        assert r.json()["holder"]["id"] == world.agents[1][0].id
        stored = await _stored(world, c.id)
        assert stored.first_name == "Kari" and stored.anonymised_at is None
        assert await world.session.scalar(select(func.count()).select_from(Event)) == 0

    async def test_permission_and_tenant(self, world: World) -> None:
        (c,) = await world.customers([{"first_name": "Kari"}])
        other = await create_tenant(world.session, name="Other")
        _, foreign_admin = await create_user(world.session, other, permissions=ADMIN)

        denied = await world.client.post(
            f"/v1/customers/{c.id}/anonymise", headers=world.auth(world.supervisor[1])
        )
        foreign = await world.client.post(
            f"/v1/customers/{c.id}/anonymise", headers=world.auth(foreign_admin)
        )

        assert denied.status_code == 403 and foreign.status_code == 404
        assert (await _stored(world, c.id)).first_name == "Kari"
