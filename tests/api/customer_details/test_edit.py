"""PATCH /v1/customers/{id} and POST /v1/customers: the import's checks (rules 2 and 4)."""

from typing import Any

import httpx
from sqlalchemy import func, select

from services.queue import AssignmentQueue
from shared.models import BlockedPhone, Customer, CustomFieldDefinition, Event, Permission
from tests.api.world import World
from tests.factories import create_tenant, create_user


async def _fields(world: World, **defs: dict[str, Any]) -> None:
    for key, values in defs.items():
        world.session.add(CustomFieldDefinition(tenant_id=world.tenant.id, key=key, **values))
    await world.session.commit()


async def _patch(world: World, customer_id: int, body: dict[str, Any]) -> httpx.Response:
    return await world.client.patch(
        f"/v1/customers/{customer_id}", json=body, headers=world.auth(world.agents[0][1])
    )


async def _events(world: World, customer_id: int) -> list[Event]:
    return list(
        await world.session.scalars(
            select(Event)
            .where(Event.customer_id == customer_id)
            .order_by(Event.id)
            .execution_options(populate_existing=True)
        )
    )


async def _customer(world: World, customer_id: int) -> Customer:
    customer = await world.session.get(Customer, customer_id, populate_existing=True)
    assert customer is not None
    return customer


class TestEdit:
    async def test_writes_normalised_values_and_an_event(self, world: World) -> None:
        await _fields(world, plan={"type": "text"}, born={"type": "date"})
        (c,) = await world.customers([{"first_name": "Ola", "email": "ola@old.no"}])

        r = await _patch(
            world,
            c.id,
            {
                "first_name": "Hélène",
                "phone_2": "22 33 44 55",
                "email": "Helene@Example.NO",
                "city": "Oslo",
                "time_zone": "Europe/Oslo",
                "custom": {"born": "1980-02-03", "plan": "gold"},
            },
        )

        assert r.status_code == 200, r.text
        body = r.json()["customer"]
        assert (body["first_name"], body["phone_2"], body["email"]) == (
            "Hélène",
            "+4722334455",
            "Helene@example.no",
        )
        assert body["custom"] == {"born": "1980-02-03", "plan": "gold"}
        stored = await _customer(world, c.id)
        assert stored.search_name == "helene"
        (event,) = await _events(world, c.id)
        assert event.kind == "customer_edited" and event.user_id == world.agents[0][0].id
        assert event.assignment_id == world.assignment.id
        assert event.data["changes"]["first_name"] == {"old": "Ola", "new": "Hélène"}
        assert event.data["changes"]["custom.plan"] == {"old": None, "new": "gold"}

    async def test_null_clears_and_unchanged_writes_no_event(self, world: World) -> None:
        await _fields(world, plan={"type": "text"})
        (c,) = await world.customers([{"email": "a@b.no", "custom": {"plan": "x"}}])

        cleared = await _patch(world, c.id, {"email": None, "custom": {"plan": None}})
        same = await _patch(world, c.id, {"email": ""})

        assert cleared.status_code == 200 and same.status_code == 200
        assert cleared.json()["customer"]["email"] is None
        assert cleared.json()["customer"]["custom"] == {}
        assert len(await _events(world, c.id)) == 1

    async def test_bad_values_answer_422_per_field_and_write_nothing(self, world: World) -> None:
        await _fields(world, size={"type": "number"})
        (c,) = await world.customers([{"first_name": "Ola"}])

        r = await _patch(
            world,
            c.id,
            {
                "first_name": "Kari",
                "phone_1": "12",
                "email": "not-an-address",
                "time_zone": "Mars/Base",
                "external_id": "",
                "custom": {"size": "big", "nope": 1},
            },
        )

        assert r.status_code == 422, r.text
        fields = {e["field"] for e in r.json()["errors"]}
        assert fields == {
            "phone_1",
            "email",
            "time_zone",
            "external_id",
            "custom.size",
            "custom.nope",
        }
        assert "phone_1" in r.json()["detail"]
        assert (await _customer(world, c.id)).first_name == "Ola"
        assert await _events(world, c.id) == []

    async def test_a_misspelt_field_is_refused_not_ignored(self, world: World) -> None:
        (c,) = await world.customers([{"first_name": "Ola"}])
        r = await _patch(world, c.id, {"cityy": "Oslo"})
        assert r.status_code == 422, r.text
        assert "cityy" in r.text
        assert await _events(world, c.id) == []

    async def test_required_and_unique_custom_fields(self, world: World) -> None:
        await _fields(
            world, member={"type": "text", "unique_if_filled": True}, vat={"type": "text"}
        )
        a, b = await world.customers([{"custom": {"member": "M1"}}, {}])
        await _fields(world, region={"type": "text", "required": True})

        taken = await _patch(world, b.id, {"custom": {"member": "M1", "region": "west"}})
        missing = await _patch(world, b.id, {"custom": {"vat": "NO1"}})
        own = await _patch(world, a.id, {"custom": {"member": "M1", "region": "east"}})

        assert taken.status_code == 422
        assert taken.json()["errors"] == [
            {
                "field": "custom.member",
                "reason": "must be unique: 'M1' is already used by customer 'ext-0'",
            }
        ]
        assert missing.status_code == 422
        assert missing.json()["errors"] == [{"field": "custom.region", "reason": "is required"}]
        assert own.status_code == 200, own.text

    async def test_external_id_taken_is_a_conflict(self, world: World) -> None:
        a, b = await world.customers([{}, {}])

        r = await _patch(world, b.id, {"external_id": a.external_id})

        assert r.status_code == 409
        assert r.json()["duplicate_of"]["id"] == a.id
        assert (await _customer(world, b.id)).external_id == "ext-1"

    async def test_a_blocked_phone_takes_the_customer_out_of_service(self, world: World) -> None:
        world.session.add(BlockedPhone(tenant_id=world.tenant.id, phone="+4799887766"))
        await world.session.commit()
        (c,) = await world.customers([{"phone_1": "+4722334455"}])

        r = await _patch(world, c.id, {"phone_1": "99 88 77 66"})

        assert r.status_code == 200, r.text
        empty = (await world.next(agent=0)).json()
        assert empty["status"] == "empty" and empty["reasons"]["blocked"] == 1
        placement = await AssignmentQueue(world.redis, world.assignment.id).placement_of(c.id)
        assert placement is not None
        # And back again when the number changes to one that may be called.
        await _patch(world, c.id, {"phone_1": "22 33 44 55"})
        assert (await world.next(agent=0)).json()["customer"]["id"] == c.id

    async def test_unknown_other_tenant_and_permission(self, world: World) -> None:
        (c,) = await world.customers([{}])
        _, reporter = await create_user(
            world.session, world.tenant, permissions=[Permission.reporting.value]
        )

        other = await create_tenant(world.session, name="Other")
        _, stranger = await create_user(world.session, other)

        missing = await _patch(world, 424242, {"first_name": "X"})
        foreign = await world.client.patch(
            f"/v1/customers/{c.id}", json={"first_name": "X"}, headers=world.auth(stranger)
        )
        denied = await world.client.patch(
            f"/v1/customers/{c.id}", json={"first_name": "X"}, headers=world.auth(reporter)
        )

        assert missing.status_code == 404 and foreign.status_code == 404
        assert denied.status_code == 403
        assert (await _customer(world, c.id)).first_name == "Customer 0"


class TestCreate:
    async def test_creates_a_profile_in_no_assignment(self, world: World) -> None:
        r = await world.client.post(
            "/v1/customers",
            json={"external_id": "new-1", "first_name": "Kari", "phone_1": "22334455"},
            headers=world.auth(world.agents[0][1]),
        )

        assert r.status_code == 201, r.text
        body = r.json()
        assert body["customer"]["phone_1"] == "+4722334455" and body["membership"] is None
        (event,) = await _events(world, body["customer"]["id"])
        assert event.data["created"] is True

    async def test_likely_duplicates_are_refused_with_a_pointer(self, world: World) -> None:
        (c,) = await world.customers(
            [
                {
                    "first_name": "Ola",
                    "last_name": "Nordmann",
                    "phone_2": "+4722334455",
                    "email": "ola@example.no",
                }
            ]
        )
        before = await world.session.scalar(select(func.count()).select_from(Customer))
        auth = world.auth(world.agents[0][1])

        by_phone = await world.client.post(
            "/v1/customers", json={"external_id": "n1", "phone_1": "22 33 44 55"}, headers=auth
        )
        by_email = await world.client.post(
            "/v1/customers", json={"external_id": "n2", "email": "OLA@example.no"}, headers=auth
        )
        by_id = await world.client.post(
            "/v1/customers", json={"external_id": c.external_id}, headers=auth
        )

        for r in (by_phone, by_email, by_id):
            assert r.status_code == 409, r.text
            assert r.json()["duplicate_of"] == {"id": c.id, "name": "Ola Nordmann"}
        after = await world.session.scalar(select(func.count()).select_from(Customer))
        assert after == before
