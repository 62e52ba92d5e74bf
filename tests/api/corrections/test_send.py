"""Send to correction (rule 26a): the customer leaves the flow for a colleague's list."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services.queue import AssignmentQueue
from shared.models import CORRECTION_STATE, Correction, Event, Membership, Permission
from tests.api.corrections.desk import Desk
from tests.factories import create_tenant, create_user, place_all


class TestSend:
    async def test_parks_the_customer_in_the_owners_list(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{"first_name": "Ada", "last_name": "Lund"}])
        r = await desk.send(c[0].id)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["membership"]["state"] == CORRECTION_STATE
        assert body["membership"]["state_set_by"] == "correction"
        assert body["membership"]["version"] == 2
        assert body["correction"]["owner"] == {"id": desk.agent_ids[1], "name": "Agent 1"}
        assert body["correction"]["allowed_outcomes"] == [
            {"code": "sale", "name": "Sale"},
            {"code": "interested", "name": "Interested"},
        ]
        assert body["correction"]["previous_state"] == "free"
        (event,) = await desk.events(c[0].id, "sent_to_correction")
        assert event.id == body["event_id"]
        assert (event.from_state, event.to_state, event.user_id) == (
            "free",
            CORRECTION_STATE,
            desk.corrector[0].id,
        )
        assert event.data["correction_id"] == body["correction"]["id"]
        assert event.data["allowed_outcomes"] == ["sale", "interested"]
        assert event.data["reason"] == "Wrong outcome on the call"
        # In the owner's list, not in anyone else's.
        owner = world.agents[1][1]
        listed = await desk.call("GET", "/v1/my-work/to-correct", owner)
        assert listed.status_code == 200, listed.text
        (row,) = listed.json()["items"]
        assert (row["customer_name"], row["reason"], row["requested_by"]["name"]) == (
            "Ada Lund",
            "Wrong outcome on the call",
            "Corrector",
        )
        assert row["assignment_name"] == world.assignment.name
        assert (await desk.call("GET", "/v1/my-work", owner)).json()["to_correct"] == 1
        others = await desk.call("GET", "/v1/my-work/to-correct", world.agents[0][1])
        assert others.json() == {"total": 0, "limit": 50, "next": None, "items": []}
        assert (await desk.call("GET", "/v1/my-work", world.agents[0][1])).json()["to_correct"] == 0

    async def test_the_queue_never_serves_it(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{}], state="interested")
        # A due personal follow-up: /next would hand it to its owner at once.
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == c[0].id)
            .values(
                followup_kind="personal",
                followup_owner_id=desk.agent_ids[0],
                followup_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
        await world.session.commit()
        await place_all(world.session, world.redis, world.assignment)
        r = await desk.send(c[0].id)
        assert r.status_code == 201, r.text
        m = await desk.membership(c[0].id)
        assert (m.followup_kind, m.followup_at, m.followup_owner_id) == (None, None, None)
        (event,) = await desk.events(c[0].id, "sent_to_correction")
        assert event.data["dropped_followup"]["followup_owner_id"] == desk.agent_ids[0]
        for agent in range(3):
            assert (await world.next(agent=agent)).json()["status"] == "empty"

    async def test_lists_oldest_first(self, desk: Desk) -> None:
        c = await desk.world.customers([{}, {}])
        for customer in reversed(c):
            assert (await desk.send(customer.id)).status_code == 201
        listed = await desk.call("GET", "/v1/my-work/to-correct", desk.world.agents[1][1])
        assert [row["customer_id"] for row in listed.json()["items"]] == [c[1].id, c[0].id]
        assert listed.json()["total"] == 2


class TestRefused:
    async def test_without_the_permission_403_and_nothing_changes(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{}])
        r = await desk.send(c[0].id, token=world.supervisor[1])
        assert r.status_code == 403
        assert "correction" in r.json()["detail"]
        assert (await desk.membership(c[0].id)).state == "free"
        assert await desk.count(Correction) == 0
        assert await desk.count(Event) == 0

    async def test_administrator_passes(self, desk: Desk) -> None:
        world = desk.world
        _, token = await create_user(
            world.session, world.tenant, permissions=[Permission.administrator.value]
        )
        c = await world.customers([{}])
        assert (await desk.send(c[0].id, token=token)).status_code == 201

    async def test_another_tenants_customer_is_not_found(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{}])
        other = await create_tenant(world.session, name="Other")
        _, token = await create_user(
            world.session, other, permissions=[Permission.correction.value]
        )
        r = await desk.send(c[0].id, token=token)
        assert r.status_code == 404
        assert (await desk.membership(c[0].id)).state == "free"

    async def test_owner_must_be_an_active_user_of_the_tenant(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{}])
        other = await create_tenant(world.session, name="Other")
        stranger, _ = await create_user(world.session, other)
        assert (await desk.send(c[0].id, owner_user_id=stranger.id)).status_code == 422
        world.agents[2][0].active = False
        await world.session.commit()
        r = await desk.send(c[0].id, owner_user_id=desk.agent_ids[2])
        assert r.status_code == 422
        assert await desk.count(Correction) == 0

    async def test_unknown_outcome_is_named(self, desk: Desk) -> None:
        c = await desk.world.customers([{}])
        r = await desk.send(c[0].id, allowed_outcomes=["sale", "teleport"])
        assert r.status_code == 422
        assert "teleport" in r.json()["detail"]
        assert (await desk.membership(c[0].id)).state == "free"

    async def test_twice_is_a_conflict(self, desk: Desk) -> None:
        c = await desk.world.customers([{}])
        assert (await desk.send(c[0].id)).status_code == 201
        assert (await desk.send(c[0].id)).status_code == 409
        assert await desk.count(Correction) == 1

    async def test_a_stale_version_is_a_conflict(self, desk: Desk) -> None:
        c = await desk.world.customers([{}])
        assert (await desk.send(c[0].id, version=7)).status_code == 409
        assert (await desk.send(c[0].id, version=1)).status_code == 201

    async def test_a_held_customer_is_refused_naming_the_holder(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{}])
        card = (await world.next(agent=0)).json()
        assert card["customer"]["id"] == c[0].id
        r = await desk.send(c[0].id)
        assert r.status_code == 409
        assert r.json()["holder"] == {"id": desk.agent_ids[0], "name": "Agent 0"}
        assert "Agent 0" in r.json()["detail"]
        assert (await desk.membership(c[0].id)).state == "free"
        assert await desk.count(Correction) == 0

    async def test_a_customer_without_membership_is_not_found(self, desk: Desk) -> None:
        assert (await desk.send(999)).status_code == 404


class TestNotWorkableWhileInCorrection:
    async def test_select_and_attempts_are_refused(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{}])
        r = await desk.send(c[0].id)
        assert r.status_code == 201, r.text
        r = await world.post(f"/v1/customers/{c[0].id}/select")
        assert r.status_code == 409
        assert "correction" in r.json()["detail"]
        m = await desk.membership(c[0].id)
        assert m.state == "@correction"
        assert await AssignmentQueue(world.redis, world.assignment.id).holder(c[0].id) is None
