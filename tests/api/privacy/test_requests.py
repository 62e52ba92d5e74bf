"""GDPR requests through the API (issue 15 point 5): the subject-access export holds every
event of the customer and nothing of another; retention policies per tenant and assignment."""

import json
from datetime import UTC, datetime

from sqlalchemy import select

from shared.models import AuditEntry, Event, Meeting, Permission, Product
from tests.api.world import World
from tests.factories import create_tenant, create_user

ADMIN = [Permission.administrator.value]


async def _admin(world: World) -> dict[str, str]:
    _, token = await create_user(world.session, world.tenant, name="Admin", permissions=ADMIN)
    return world.auth(token)


class TestSubjectAccess:
    async def test_every_event_of_the_customer_and_nothing_of_another(self, world: World) -> None:
        admin = await _admin(world)
        mine, theirs = await world.customers(
            [
                {"first_name": "Åse", "last_name": "Ødegård", "phone_1": "+4722334455"},
                {"first_name": "Bjørg", "last_name": "Nygård", "phone_1": "+4799887766"},
            ]
        )
        other_tenant = await create_tenant(world.session, name="Other")
        at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        for customer, tenant_id, word in (
            (mine, world.tenant.id, "mine"),
            (theirs, world.tenant.id, "theirs"),
            # Another tenant's row naming the same customer id: never part of the export.
            (mine, other_tenant.id, "foreign"),
        ):
            base = {"tenant_id": tenant_id, "customer_id": customer.id}
            world.session.add_all(
                [Event(**base, kind="attempt", comment=f"{word} {i}") for i in range(3)]
                + [
                    Product(**base, name=f"{word} fibre", status="sold"),
                    Meeting(**base, starts_at=at, note=f"{word} meeting"),
                ]
            )
        await world.session.commit()
        expected = set(
            await world.session.scalars(
                select(Event.id).where(
                    Event.customer_id == mine.id, Event.tenant_id == world.tenant.id
                )
            )
        )

        r = await world.client.get(f"/v1/customers/{mine.id}/export", headers=admin)

        assert r.status_code == 200, r.text
        body = r.json()
        sections = body["sections"]
        assert body["customer_id"] == mine.id
        assert sections["customer"]["last_name"] == "Ødegård"
        assert sections["data_controller"]["data_controller"] == "Acme AS"
        assert sections["membership"]["assignment_id"] == world.assignment.id
        assert {e["id"] for e in sections["events"]} == expected and len(expected) == 3
        assert [p["name"] for p in sections["products"]] == ["mine fibre"]
        assert [m["note"] for m in sections["meetings"]] == ["mine meeting"]
        dumped = json.dumps(body, ensure_ascii=False)
        for foreign in ("theirs", "foreign", "Nygård", "+4799887766"):
            assert foreign not in dumped
        logged = await world.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "privacy.customer_exported")
        )
        assert logged is not None and (logged.target_id, logged.data) == (mine.id, {})

    async def test_administrators_only_and_only_their_tenant(self, world: World) -> None:
        admin = await _admin(world)
        (c,) = await world.customers([{}])
        other = await create_tenant(world.session, name="Other")
        _, other_admin = await create_user(world.session, other, permissions=ADMIN)

        agent = await world.client.get(
            f"/v1/customers/{c.id}/export", headers=world.auth(world.agents[0][1])
        )
        foreign = await world.client.get(
            f"/v1/customers/{c.id}/export", headers=world.auth(other_admin)
        )
        missing = await world.client.get("/v1/customers/999999/export", headers=admin)

        assert (agent.status_code, foreign.status_code, missing.status_code) == (403, 404, 404)
        assert (await world.session.scalars(select(AuditEntry))).all() == []


class TestRetentionPolicies:
    async def test_set_read_and_cleared_per_tenant_and_assignment(self, world: World) -> None:
        admin = await _admin(world)
        a = world.assignment.id

        tenant = await world.client.put("/v1/tenant/retention", json={"months": 24}, headers=admin)
        own = await world.client.put(
            f"/v1/assignments/{a}/retention", json={"months": 6}, headers=admin
        )
        again = await world.client.put(
            f"/v1/assignments/{a}/retention", json={"months": 9}, headers=admin
        )
        read = await world.client.get("/v1/tenant/retention", headers=admin)
        cleared = await world.client.put(
            "/v1/tenant/retention", json={"months": None}, headers=admin
        )

        assert tenant.json() == {"months": 24, "assignments": []}
        assert own.json() == {"months": 24, "assignments": [{"assignment_id": a, "months": 6}]}
        assert (
            read.json()
            == again.json()
            == {
                "months": 24,
                "assignments": [{"assignment_id": a, "months": 9}],
            }
        )
        assert cleared.json() == {
            "months": None,
            "assignments": [{"assignment_id": a, "months": 9}],
        }
        changes = list(
            await world.session.scalars(
                select(AuditEntry.data)
                .where(AuditEntry.action == "privacy.retention_changed")
                .order_by(AuditEntry.id)
            )
        )
        assert changes == [{"months": 24}, {"months": 6}, {"months": 9}, {"months": None}]

    async def test_bad_input_and_other_tenants_are_refused(self, world: World) -> None:
        admin = await _admin(world)
        other = await create_tenant(world.session, name="Other")
        _, other_admin = await create_user(world.session, other, permissions=ADMIN)
        a = world.assignment.id

        answers = [
            await world.client.put("/v1/tenant/retention", json={"months": 0}, headers=admin),
            await world.client.put("/v1/tenant/retention", json={"months": 241}, headers=admin),
            await world.client.put("/v1/tenant/retention", json={}, headers=admin),
            await world.client.put(
                f"/v1/assignments/{a}/retention",
                json={"months": 6},
                headers=world.auth(other_admin),
            ),
            await world.client.put(
                "/v1/tenant/retention", json={"months": 6}, headers=world.auth(world.agents[0][1])
            ),
        ]

        assert [r.status_code for r in answers] == [422, 422, 422, 404, 403]
        read = await world.client.get("/v1/tenant/retention", headers=admin)
        assert read.json() == {"months": None, "assignments": []}
