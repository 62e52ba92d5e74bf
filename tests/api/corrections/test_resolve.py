"""Resolving a correction (rule 26a): the owner picks an allowed outcome; back into the flow."""

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.models import CORRECTION_STATE, Correction, Permission
from tests.api.corrections.desk import Desk
from tests.factories import create_tenant, create_user


async def _sent(desk: Desk, **body: Any) -> tuple[int, int]:
    """A customer sent to Agent 1: (customer id, correction id)."""
    c = await desk.world.customers([{}])
    r = await desk.send(c[0].id, **body)
    assert r.status_code == 201, r.text
    return c[0].id, r.json()["correction"]["id"]


async def _resolve(desk: Desk, correction_id: int, agent: int = 1, **body: Any) -> Any:
    token = desk.world.agents[agent][1]
    return await desk.call("POST", f"/v1/corrections/{correction_id}/resolve", token, **body)


class TestResolve:
    async def test_back_in_the_flow_and_served_again(self, desk: Desk) -> None:
        world = desk.world
        customer_id, correction_id = await _sent(desk)
        assert (await world.next(agent=1)).json()["status"] == "empty"
        due = datetime.now(UTC) - timedelta(seconds=5)
        r = await _resolve(
            desk, correction_id, code="interested", follow_up_at=due.isoformat(), comment="ok"
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["membership"]["state"] == "interested"
        assert body["membership"]["followup_owner_id"] == desk.agent_ids[1]
        assert body["correction"]["resolved_event_id"] == body["event_id"]
        event = await desk.event(body["event_id"])
        assert (event.kind, event.code, event.from_state, event.to_state) == (
            "outcome",
            "interested",
            CORRECTION_STATE,
            "interested",
        )
        assert (event.user_id, event.comment) == (desk.agent_ids[1], "ok")
        assert event.data["correction_id"] == correction_id
        # Its due personal follow-up is served to its owner, and the list is empty again.
        card = (await world.next(agent=1)).json()
        assert card["customer"]["id"] == customer_id
        listed = await desk.call("GET", "/v1/my-work/to-correct", world.agents[1][1])
        assert listed.json()["total"] == 0

    async def test_a_final_outcome_stays_out_of_the_queue(self, desk: Desk) -> None:
        customer_id, correction_id = await _sent(desk)
        r = await _resolve(desk, correction_id, code="sale")
        assert r.status_code == 200, r.text
        assert (await desk.membership(customer_id)).state == "sale"
        assert (await desk.world.next(agent=1)).json()["status"] == "empty"

    async def test_only_the_owner(self, desk: Desk) -> None:
        customer_id, correction_id = await _sent(desk)
        r = await _resolve(desk, correction_id, agent=0, code="sale")
        assert r.status_code == 403
        assert (await desk.membership(customer_id)).state == CORRECTION_STATE
        assert len(await desk.events(customer_id, "outcome")) == 0

    async def test_another_tenant_gets_404(self, desk: Desk) -> None:
        world = desk.world
        _, correction_id = await _sent(desk)
        other = await create_tenant(world.session, name="Other")
        _, token = await create_user(
            world.session, other, permissions=[Permission.administrator.value]
        )
        r = await desk.call("POST", f"/v1/corrections/{correction_id}/resolve", token, code="sale")
        assert r.status_code == 404

    async def test_only_an_allowed_outcome(self, desk: Desk) -> None:
        customer_id, correction_id = await _sent(desk, allowed_outcomes=["sale"])
        r = await _resolve(desk, correction_id, code="not_interested")
        assert r.status_code == 422
        assert r.json()["allowed_outcomes"] == ["sale"]
        assert (await desk.membership(customer_id)).state == CORRECTION_STATE

    async def test_a_required_follow_up_time(self, desk: Desk) -> None:
        customer_id, correction_id = await _sent(desk)
        assert (await _resolve(desk, correction_id, code="interested")).status_code == 422
        assert (await desk.membership(customer_id)).state == CORRECTION_STATE

    async def test_once_only(self, desk: Desk) -> None:
        customer_id, correction_id = await _sent(desk)
        assert (await _resolve(desk, correction_id, code="sale")).status_code == 200
        assert (await _resolve(desk, correction_id, code="sale")).status_code == 409
        assert len(await desk.events(customer_id, "outcome")) == 1
        correction = await desk.world.session.get(Correction, correction_id)
        assert correction is not None and correction.resolved_at is not None

    async def test_moved_away_is_a_conflict(self, desk: Desk) -> None:
        world = desk.world
        customer_id, correction_id = await _sent(desk)
        membership = await desk.membership(customer_id)
        membership.state = "free"
        await world.session.commit()
        assert (await _resolve(desk, correction_id, code="sale")).status_code == 409
        listed = await desk.call("GET", "/v1/my-work/to-correct", world.agents[1][1])
        assert listed.json()["items"] == []
