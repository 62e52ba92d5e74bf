"""Rules 7 and 19-21 over HTTP: attempts, outcomes on the flow, and the follow-ups they make."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.queue import AssignmentQueue
from shared.models import Event, Membership
from tests.api.world import World


async def _write(world: World, card: dict[str, Any], what: str, agent: int = 0, **body: Any) -> Any:
    return await world.post(
        f"/v1/customers/{card['customer']['id']}/{what}",
        agent=agent,
        lease_id=card["lease"]["id"],
        version=card["membership"]["version"],
        **body,
    )


async def _membership(world: World, customer_id: int) -> Membership:
    found = await world.session.scalar(
        select(Membership)
        .where(Membership.customer_id == customer_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


class TestNoAnswer:
    async def test_counts_an_attempt_and_stays_free(self, world: World) -> None:
        world.assignment.sort_keys = [{"key": "attempts", "direction": "asc"}]
        await world.session.commit()
        await world.customers([{}, {}])
        card = (await world.next()).json()
        r = await _write(world, card, "attempts", kind="no_answer")
        assert r.status_code == 200, r.text
        m = await _membership(world, card["customer"]["id"])
        assert (m.attempts, m.state, m.followup_at) == (1, "free", None)
        assert r.json()["membership"]["version"] == card["membership"]["version"] + 1
        # Comes back by the ordering rules: fewest attempts first.
        nxt = (await world.next()).json()
        assert nxt["customer"]["id"] != card["customer"]["id"]


class TestCallBackLater:
    async def test_free_customer_gets_a_shared_followup(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next(agent=0)).json()
        at = datetime.now(UTC) + timedelta(seconds=2)
        r = await _write(world, card, "attempts", kind="call_back_later", at=at.isoformat())
        assert r.status_code == 200, r.text
        m = await _membership(world, card["customer"]["id"])
        assert (m.attempts, m.state, m.followup_kind, m.followup_owner_id) == (
            1,
            "free",
            "shared",
            None,
        )
        # Not before its time; then to whoever asks (another agent here).
        assert (await world.next(agent=1)).json()["status"] == "empty"
        queue = AssignmentQueue(world.redis, world.assignment.id)
        claimed = await queue.claim(
            user_id=world.agents[1][0].id,
            lease_seconds=60,
            now=int(at.timestamp() * 1000) + 1,
        )
        assert getattr(claimed, "source", None) == "shared_followup"

    async def test_progressive_customer_gets_a_personal_followup(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next(agent=0)).json()
        soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        r = await _write(world, card, "outcomes", code="interested", follow_up_at=soon)
        assert r.status_code == 200, r.text
        # Work it again from My Work by selecting it, then call back later for a colleague.
        selected = (await world.post(f"/v1/customers/{card['customer']['id']}/select")).json()
        later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        colleague = world.agents[2][0].id
        r = await _write(
            world, selected, "attempts", kind="call_back_later", at=later, owner_id=colleague
        )
        assert r.status_code == 200, r.text
        m = await _membership(world, card["customer"]["id"])
        assert (m.state, m.followup_kind, m.followup_owner_id) == (
            "interested",
            "personal",
            colleague,
        )

    async def test_needs_a_time(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        r = await _write(world, card, "attempts", kind="call_back_later")
        assert r.status_code == 422


class TestOutcomes:
    async def test_outcome_moves_along_the_flow_with_its_followup(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next(agent=0)).json()
        at = datetime.now(UTC) + timedelta(hours=3)
        r = await _write(world, card, "outcomes", code="interested", follow_up_at=at.isoformat())
        assert r.status_code == 200, r.text
        m = await _membership(world, card["customer"]["id"])
        assert (m.state, m.followup_kind, m.followup_owner_id) == (
            "interested",
            "personal",
            world.agents[0][0].id,
        )
        assert m.state_set_by_user_id == world.agents[0][0].id
        # A personal follow-up is only for its owner, and only when due.
        queue = AssignmentQueue(world.redis, world.assignment.id)
        placement = await queue.placement_of(card["customer"]["id"])
        assert placement is not None and placement.kind == "pfu"

    async def test_final_outcome_takes_the_customer_out(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        assert (await _write(world, card, "outcomes", code="sale")).status_code == 200
        empty = (await world.next()).json()
        assert empty["status"] == "empty"
        assert empty["reasons"]["none_left"] is True

    async def test_unknown_outcome_is_422_and_writes_nothing(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        r = await _write(world, card, "outcomes", code="teleported")
        assert r.status_code == 422
        assert "unknown outcome" in r.json()["detail"]
        assert await world.session.scalar(select(func.count()).select_from(Event)) == 0

    async def test_outcome_not_allowed_from_state_is_422(self, world: World) -> None:
        await world.customers([{}], state="sale")
        # Final customers are parked; take it by hand to try.
        customer_id = await world.session.scalar(select(Membership.customer_id))
        card = (await world.post(f"/v1/customers/{customer_id}/select")).json()
        r = await _write(world, card, "outcomes", code="interested")
        assert r.status_code == 422
        assert "not allowed from state 'sale'" in r.json()["detail"]

    async def test_required_followup_time_is_enforced(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        r = await _write(world, card, "outcomes", code="interested")
        assert r.status_code == 422

    async def test_missing_and_wrong_typed_fields_are_422(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        path = f"/v1/customers/{card['customer']['id']}/outcomes"
        assert (await world.post(path, code="sale")).status_code == 422
        r = await world.post(path, code="sale", lease_id=card["lease"]["id"], version="two")
        assert r.status_code == 422
        assert await world.session.scalar(select(func.count()).select_from(Event)) == 0

    async def test_another_tenants_customer_is_404(self, world: World) -> None:
        from tests.factories import add_customers, create_assignment, create_flow, create_tenant

        other = await create_tenant(world.session, name="Other")
        flow = await create_flow(world.session, other)
        theirs = await create_assignment(world.session, other, flow)
        customers = await add_customers(world.session, world.redis, theirs, [{"external_id": "x"}])
        r = await world.post(
            f"/v1/customers/{customers[0].id}/outcomes", lease_id="x", version=1, code="sale"
        )
        assert r.status_code == 404
        r = await world.post(f"/v1/customers/{customers[0].id}/select")
        assert r.status_code == 404
