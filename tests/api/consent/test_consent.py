"""Consent per customer and channel (rule 34) over HTTP, on real PostgreSQL and Redis: the
history is kept, and a phone consent withdrawn takes the customer out of a queue that
requires consent before the answer."""

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import AssignmentQueue
from shared.contact.consent import consent_history, register_hits
from shared.models import BlockedPhone, Customer, Register, RegisterNumber
from tests.api.world import World
from tests.factories import create_tenant

PHONE = "+4791234567"


async def consent(
    world: World, customer: Customer, agent: int = 0, **body: object
) -> dict[str, Any]:
    r = await world.post(f"/v1/customers/{customer.id}/consents", agent, **body)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def depth(world: World) -> tuple[int, int]:
    counts = await AssignmentQueue(world.redis, world.assignment.id).depth()
    return counts["free"], counts["blocked"]


class TestWithdrawal:
    async def test_withdrawal_takes_the_customer_out_of_the_queue_at_once(
        self, world: World
    ) -> None:
        world.assignment.consent_required = True
        await world.session.commit()
        (customer,) = await world.customers([{"phone_1": PHONE}])
        # Never asked: not served where consent is required.
        assert await depth(world) == (0, 1)
        await consent(world, customer, channel="phone", given=True, purpose="sales")
        assert await depth(world) == (1, 0)
        await consent(world, customer, channel="phone", given=False, source="call")
        assert await depth(world) == (0, 1)
        empty = (await world.next()).json()
        assert (empty["status"], empty["reasons"]["blocked"]) == ("empty", 1)

    async def test_consent_is_not_needed_where_the_assignment_does_not_ask(
        self, world: World
    ) -> None:
        (customer,) = await world.customers([{"phone_1": PHONE}])
        await consent(world, customer, channel="phone", given=False)
        assert (await world.next()).json()["customer"]["id"] == customer.id

    async def test_an_sms_withdrawal_leaves_the_phone_consent(self, world: World) -> None:
        world.assignment.consent_required = True
        await world.session.commit()
        (customer,) = await world.customers([{"phone_1": PHONE}])
        await consent(world, customer, channel="phone", given=True)
        await consent(world, customer, channel="sms", given=False)
        assert await depth(world) == (1, 0)


class TestHistory:
    async def test_every_entry_is_kept_newest_first(self, world: World) -> None:
        (customer,) = await world.customers([{"phone_1": PHONE}])
        first = await consent(
            world, customer, channel="email", given=True, purpose="newsletter", source="web"
        )
        second = await consent(world, customer, 1, channel="email", given=False)
        r = await world.client.get(
            f"/v1/customers/{customer.id}/consents", headers=world.auth(world.agents[0][1])
        )
        items = r.json()["items"]
        assert [i["id"] for i in items] == [second["id"], first["id"]]
        assert (items[1]["purpose"], items[1]["source"], items[1]["given"]) == (
            "newsletter",
            "web",
            True,
        )
        assert items[0]["recorded_by"] == world.agents[1][0].id

    async def test_bad_bodies_answer_422_and_other_tenants_404(self, world: World) -> None:
        (customer,) = await world.customers([{"phone_1": PHONE}])
        path = f"/v1/customers/{customer.id}/consents"
        for body in (
            {"channel": "fax", "given": True},
            {"channel": "phone", "given": "yes"},
            {"channel": "phone", "given": True, "at": "0001-01-01T00:00:00+01:00"},
        ):
            assert (await world.post(path, **body)).status_code == 422
        other = await create_tenant(world.session, name="Globex")
        theirs = Customer(tenant_id=other.id, external_id="g-1")
        world.session.add(theirs)
        await world.session.commit()
        r = await world.post(f"/v1/customers/{theirs.id}/consents", channel="sms", given=True)
        assert r.status_code == 404
        history = await consent_history(world.session, world.tenant.id, customer.id)
        assert history == []


class TestSubjectAccessHooks:
    async def test_consents_and_register_hits_as_json_of_this_customer_only(
        self, world: World, session: AsyncSession
    ) -> None:
        mine, other = await world.customers([{"phone_1": PHONE}, {"phone_1": "+4791234568"}])
        await consent(world, mine, channel="phone", given=True, purpose="sales")
        await consent(world, other, channel="phone", given=True)
        register = Register(tenant_id=world.tenant.id, name="Reservasjonsregisteret")
        session.add(register)
        await session.flush()
        session.add_all(
            [
                RegisterNumber(register_id=register.id, tenant_id=world.tenant.id, phone=PHONE),
                RegisterNumber(
                    register_id=register.id, tenant_id=world.tenant.id, phone="+4791234568"
                ),
                BlockedPhone(tenant_id=world.tenant.id, phone=PHONE, reason="asked"),
            ]
        )
        await session.commit()
        history = await consent_history(session, world.tenant.id, mine.id)
        hits = await register_hits(session, world.tenant.id, mine.id)
        json.dumps([history, hits])
        assert [(h["channel"], h["given"], h["purpose"]) for h in history] == [
            ("phone", True, "sales")
        ]
        assert [(h["list"], h["phone"]) for h in hits] == [
            ("register", PHONE),
            ("blocklist", PHONE),
        ]
        assert hits[0]["register"] == "Reservasjonsregisteret"
        assert await register_hits(session, world.tenant.id + 1, mine.id) == []
