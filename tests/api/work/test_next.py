"""Rules 10-14 over HTTP: the order of /next, never two holders, never a forbidden customer."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.queue import AssignmentQueue
from shared.models import Membership
from tests.api.world import World
from tests.factories import create_assignment, create_flow, create_tenant, create_user, place_all


class TestNextOrder:
    async def test_free_customers_follow_the_sort_keys(self, world: World) -> None:
        world.assignment.sort_keys = [{"key": "custom:score", "direction": "desc"}]
        await world.session.commit()
        await world.customers([{"custom": {"score": s}} for s in (5, 50, 7, None, 20)])
        scores = []
        for i in range(5):
            r = await world.next(agent=0)
            card = r.json()
            scores.append(card["customer"]["custom"].get("score"))
            await world.post(
                f"/v1/customers/{card['customer']['id']}/outcomes",
                lease_id=card["lease"]["id"],
                version=card["membership"]["version"],
                code="not_interested",
            )
            assert r.status_code == 200, i
        assert scores == [50, 20, 7, 5, None]

    async def test_own_personal_then_shared_followups_then_free(self, world: World) -> None:
        customers = await world.customers([{} for _ in range(4)])
        me = world.agents[0][0].id
        past = datetime.now(UTC) - timedelta(minutes=5)
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == customers[2].id)
            .values(
                state="interested", followup_kind="personal", followup_at=past, followup_owner_id=me
            )
        )
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == customers[3].id)
            .values(followup_kind="shared", followup_at=past)
        )
        await world.session.commit()
        await place_all(world.session, world.redis, world.assignment)

        first = (await world.next(agent=0)).json()
        assert (first["source"], first["customer"]["id"]) == ("personal_followup", customers[2].id)
        second = (await world.next(agent=1)).json()
        assert (second["source"], second["customer"]["id"]) == ("shared_followup", customers[3].id)
        third = (await world.next(agent=2)).json()
        assert (third["source"], third["customer"]["id"]) == ("free", customers[0].id)

    async def test_someone_elses_personal_followup_is_not_served(self, world: World) -> None:
        customers = await world.customers([{}])
        past = datetime.now(UTC) - timedelta(minutes=1)
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == customers[0].id)
            .values(
                state="interested",
                followup_kind="personal",
                followup_at=past,
                followup_owner_id=world.agents[1][0].id,
            )
        )
        await world.session.commit()
        await place_all(world.session, world.redis, world.assignment)
        assert (await world.next(agent=0)).json()["status"] == "empty"
        assert (await world.next(agent=1)).json()["customer"]["id"] == customers[0].id

    async def test_customers_over_the_attempt_limit_come_last(self, world: World) -> None:
        world.assignment.attempt_limit = 2
        await world.session.commit()
        customers = await world.customers([{} for _ in range(2)])
        await world.session.execute(
            update(Membership).where(Membership.customer_id == customers[0].id).values(attempts=2)
        )
        await world.session.commit()
        await place_all(world.session, world.redis, world.assignment)
        assert (await world.next(agent=0)).json()["customer"]["id"] == customers[1].id
        assert (await world.next(agent=1)).json()["customer"]["id"] == customers[0].id

    async def test_cooldown_keeps_a_customer_back(self, world: World) -> None:
        world.assignment.cooldown_seconds = 3600
        await world.session.commit()
        await world.customers([{}])
        card = (await world.next()).json()
        r = await world.post(
            f"/v1/customers/{card['customer']['id']}/attempts",
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            kind="no_answer",
        )
        assert r.status_code == 200, r.text
        empty = (await world.next()).json()
        assert empty["status"] == "empty"
        assert empty["reasons"]["cooldown"] == 1
        eligible = datetime.fromisoformat(empty["next_eligible_at"])
        assert timedelta(minutes=59) < eligible - datetime.now(UTC) <= timedelta(hours=1)


class TestNeverTwoHolders:
    async def test_a_held_customer_is_invisible_to_colleagues(self, world: World) -> None:
        await world.customers([{}])
        first = await world.next(agent=0)
        assert first.json()["status"] == "claimed"
        other = (await world.next(agent=1)).json()
        assert other["status"] == "empty"
        assert other["reasons"]["held"] == 1

    async def test_next_while_holding_returns_the_same_customer(self, world: World) -> None:
        await world.customers([{}, {}])
        a = (await world.next()).json()
        b = (await world.next()).json()
        assert b["customer"]["id"] == a["customer"]["id"]
        assert b["lease"]["id"] == a["lease"]["id"]
        assert b["source"] == "current"

    async def test_a_lease_that_outlived_its_outcome_is_ended_not_shown_again(
        self, world: World
    ) -> None:
        """As a rebuild can leave it (decision 032): the outcome committed, its lease given
        back in Redis by a rebuild that read the database just before."""
        customers = await world.customers([{}, {}])
        held = (await world.next()).json()
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == held["customer"]["id"])
            .values(state="not_interested", version=Membership.version + 1)
        )
        await world.session.commit()

        after = (await world.next()).json()

        assert after["source"] != "current"
        assert after["customer"]["id"] == customers[1].id
        holders = await AssignmentQueue(world.redis, world.assignment.id).holders()
        assert holders == {customers[1].id: world.agents[0][0].id}


class TestNeverForbidden:
    async def test_blocked_numbers_are_not_served(self, world: World) -> None:
        from shared.models import BlockedPhone

        world.session.add(BlockedPhone(tenant_id=world.tenant.id, phone="+4722334455"))
        await world.session.commit()
        await world.customers([{"phone_1": "+4722334455"}])
        empty = (await world.next()).json()
        assert empty["status"] == "empty"
        assert empty["reasons"]["blocked"] == 1

    async def test_outside_contact_hours_customers_wait(self, world: World) -> None:
        # A window that is closed now in UTC: it ended an hour ago and opens in an hour.
        now = datetime.now(UTC)
        world.assignment.contact_hours_start = (now + timedelta(hours=1)).strftime("%H:%M")
        world.assignment.contact_hours_end = (now - timedelta(hours=1)).strftime("%H:%M")
        await world.session.commit()
        await world.customers([{"time_zone": "UTC"}])
        empty = (await world.next()).json()
        assert empty["status"] == "empty"
        assert empty["reasons"]["outside_hours"] == 1
        world.assignment.contact_hours_start = (now - timedelta(hours=1)).strftime("%H:%M")
        world.assignment.contact_hours_end = (now + timedelta(hours=1)).strftime("%H:%M")
        await world.session.commit()
        assert (await world.next()).json()["status"] == "claimed"

    async def test_invisible_assignment_is_refused(self, world: World) -> None:
        world.assignment.visible_to_all = False
        world.assignment.visible_user_ids = [world.agents[1][0].id]
        await world.session.commit()
        await world.customers([{}])
        assert (await world.next(agent=0)).status_code == 403
        assert (await world.next(agent=1)).json()["status"] == "claimed"


class TestEmptyAnswers:
    async def test_nothing_left_says_so(self, world: World) -> None:
        empty = (await world.next()).json()
        assert empty["status"] == "empty"
        assert empty["reasons"]["none_left"] is True
        assert empty["next_eligible_at"] is None


class TestTenancyAndAuth:
    async def test_another_tenants_assignment_answers_404(self, world: World) -> None:
        other = await create_tenant(world.session, name="Other")
        flow = await create_flow(world.session, other)
        theirs = await create_assignment(world.session, other, flow)
        r = await world.client.post(
            f"/v1/assignments/{theirs.id}/next", headers=world.auth(world.agents[0][1])
        )
        assert r.status_code == 404

    async def test_no_token_is_401(self, world: World) -> None:
        r = await world.client.post(f"/v1/assignments/{world.assignment.id}/next")
        assert r.status_code == 401

    async def test_without_customer_handling_is_403(self, world: World) -> None:
        _, token = await create_user(world.session, world.tenant, permissions=["reporting"])
        r = await world.client.post(
            f"/v1/assignments/{world.assignment.id}/next", headers=world.auth(token)
        )
        assert r.status_code == 403

    @pytest.mark.parametrize("body", [b"{", b"[1,2]", b'{"segment_id": "x"}'])
    async def test_malformed_bodies_are_422(self, world: World, body: bytes) -> None:
        r = await world.client.post(
            f"/v1/assignments/{world.assignment.id}/next",
            content=body,
            headers={**world.auth(world.agents[0][1]), "Content-Type": "application/json"},
        )
        assert r.status_code == 422
        assert r.json()["detail"]
