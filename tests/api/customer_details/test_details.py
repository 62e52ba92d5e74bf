"""GET /v1/customers/{id} and its history (rule 24): read without taking the customer."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from shared.models import Event, Meeting, Membership, Permission, Product, Segment
from tests.api.world import World
from tests.factories import create_tenant, create_user


class TestDetails:
    async def test_shows_fields_privacy_state_products_and_meetings(self, world: World) -> None:
        segment = Segment(tenant_id=world.tenant.id, assignment_id=world.assignment.id, name="Hot")
        world.session.add(segment)
        await world.session.commit()
        (c,) = await world.customers(
            [
                {
                    "first_name": "Åse",
                    "last_name": "Ødegård",
                    "phone_1": "+4722334455",
                    "email": "ase@example.no",
                    "city": "Bergen",
                    "account_type": "private",
                    "custom": {"plan": "gold"},
                }
            ],
            state="interested",
        )
        owner, _ = world.agents[1]
        set_at = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == c.id)
            .values(
                segment_id=segment.id,
                state_set_by="user",
                state_set_by_user_id=owner.id,
                state_set_at=set_at,
                followup_kind="personal",
                followup_owner_id=owner.id,
                followup_at=set_at + timedelta(days=1),
                attempts=2,
            )
        )
        common = {"tenant_id": world.tenant.id, "customer_id": c.id}
        world.session.add_all(
            [
                Product(**common, name="Router", status="offered", amount_minor=1999),
                Product(**common, name="Fibre", status="sold", amount_minor=49900, currency="NOK"),
                Meeting(**common, starts_at=set_at, location="Office"),
                Meeting(**common, starts_at=set_at + timedelta(days=2), cancelled_at=set_at),
            ]
        )
        await world.session.commit()

        r = await world.client.get(f"/v1/customers/{c.id}", headers=world.auth(world.agents[0][1]))

        assert r.status_code == 200, r.text
        body = r.json()
        assert body["customer"]["last_name"] == "Ødegård"
        assert body["customer"]["custom"] == {"plan": "gold"}
        assert (body["customer"]["city"], body["customer"]["account_type"]) == ("Bergen", "private")
        assert body["privacy"] == {"data_controller": "Acme AS", "processing_purpose": "Sales"}
        m = body["membership"]
        assert (m["assignment_name"], m["segment_name"]) == ("Autumn campaign", "Hot")
        assert (m["state"], m["state_name"], m["state_kind"]) == (
            "interested",
            "Interested, follow up",
            "progressive",
        )
        assert m["state_set_by"] == "user"
        assert m["state_set_by_user"] == {"id": owner.id, "name": "Agent 1"}
        assert m["followup_owner"] == {"id": owner.id, "name": "Agent 1"}
        assert m["attempts"] == 2 and m["followup_kind"] == "personal"
        assert [p["name"] for p in body["products"]["offered"]] == ["Router"]
        assert [p["name"] for p in body["products"]["sold"]] == ["Fibre"]
        assert [x["cancelled"] for x in body["meetings"]] == [True, False]
        assert body["holder"] is None

    async def test_reading_does_not_take_and_shows_the_holder(self, world: World) -> None:
        (c,) = await world.customers([{}])
        r = await world.client.get(f"/v1/customers/{c.id}", headers=world.auth(world.agents[1][1]))
        assert r.json()["holder"] is None
        # Still served: the read leased nothing.
        card = (await world.next(agent=0)).json()
        assert card["customer"]["id"] == c.id

        r = await world.client.get(f"/v1/customers/{c.id}", headers=world.auth(world.agents[1][1]))

        holder = r.json()["holder"]
        assert holder["user"] == {"id": world.agents[0][0].id, "name": "Agent 0"}
        assert holder["lease_expires_at"] > datetime.now(UTC).isoformat()

    async def test_invisible_assignment_answers_404_except_extended(self, world: World) -> None:
        (c,) = await world.customers([{}])
        world.assignment.visible_to_all = False
        world.assignment.visible_user_ids = [world.agents[1][0].id]
        await world.session.commit()
        path = f"/v1/customers/{c.id}"

        hidden = await world.client.get(path, headers=world.auth(world.agents[0][1]))
        allowed = await world.client.get(path, headers=world.auth(world.agents[1][1]))
        extended = await world.client.get(path, headers=world.auth(world.supervisor[1]))
        events = await world.client.get(f"{path}/events", headers=world.auth(world.agents[0][1]))

        assert hidden.status_code == 404 and events.status_code == 404
        assert allowed.status_code == 200 and extended.status_code == 200

    async def test_other_tenant_and_missing_permission(self, world: World) -> None:
        (c,) = await world.customers([{}])
        other = await create_tenant(world.session, name="Other")
        _, stranger = await create_user(world.session, other)
        _, reporter = await create_user(
            world.session, world.tenant, permissions=[Permission.reporting.value]
        )

        foreign = await world.client.get(f"/v1/customers/{c.id}", headers=world.auth(stranger))
        missing = await world.client.get("/v1/customers/999999", headers=world.auth(stranger))
        denied = await world.client.get(f"/v1/customers/{c.id}", headers=world.auth(reporter))

        assert foreign.status_code == 404 and missing.status_code == 404
        assert foreign.json()["detail"] == missing.json()["detail"].replace("999999", str(c.id))
        assert denied.status_code == 403 and "customer_handling" in denied.json()["detail"]


class TestEvents:
    async def test_newest_first_with_flags_across_assignments(self, world: World) -> None:
        (c,) = await world.customers([{}])
        agent = world.agents[0][0]
        base = {"tenant_id": world.tenant.id, "customer_id": c.id}
        old = Event(**base, assignment_id=99, kind="outcome", code="sale", user_id=agent.id)
        world.session.add(old)
        await world.session.flush()
        new = Event(
            **base,
            assignment_id=world.assignment.id,
            kind="outcome",
            code="not_interested",
            comment="changed mind",
            data={"reason": "price"},
            corrects_event_id=old.id,
            report_user_id=agent.id,
        )
        world.session.add(new)
        await world.session.flush()
        old.corrected_by_event_id = new.id
        old.excluded_from_reports = True
        await world.session.commit()

        r = await world.client.get(
            f"/v1/customers/{c.id}/events", headers=world.auth(world.agents[1][1])
        )

        assert r.status_code == 200, r.text
        events = r.json()["items"]
        assert [e["id"] for e in events] == [new.id, old.id]
        first, second = events
        assert (first["comment"], first["data"], first["corrects_event_id"]) == (
            "changed mind",
            {"reason": "price"},
            old.id,
        )
        assert first["report_user_id"] == agent.id
        assert second["corrected_by_event_id"] == new.id and second["excluded_from_reports"]
        assert second["user"] == {"id": agent.id, "name": "Agent 0"}
        assert second["assignment_id"] == 99
        assert r.json()["next"] is None

    async def test_keyset_pages(self, world: World) -> None:
        (c,) = await world.customers([{}])
        for i in range(5):
            world.session.add(
                Event(tenant_id=world.tenant.id, customer_id=c.id, kind="attempt", code=f"a{i}")
            )
        await world.session.commit()
        path = f"/v1/customers/{c.id}/events"
        auth = world.auth(world.agents[0][1])

        first = (await world.client.get(path, params={"limit": 2}, headers=auth)).json()
        second = (
            await world.client.get(path, params={"limit": 2, "cursor": first["next"]}, headers=auth)
        ).json()
        last = (
            await world.client.get(
                path, params={"limit": 2, "cursor": second["next"]}, headers=auth
            )
        ).json()

        codes = [e["code"] for page in (first, second, last) for e in page["items"]]
        assert codes == ["a4", "a3", "a2", "a1", "a0"]
        assert last["next"] is None
        bad = await world.client.get(path, params={"limit": 0}, headers=auth)
        assert bad.status_code == 422
