"""Agents' states (rule 35): the agent's own changes, the list supervisors see, the gauge."""

from sqlalchemy import select

from shared.models import AgentStateChange
from tests.api.dialer.floor import Floor


class TestOwnState:
    async def test_sign_in_pause_resume_sign_off(self, floor: Floor) -> None:
        assert (await floor.state_of(0))["state"] == "signed_off"
        await floor.ready(0)
        r = await floor.set_state(0, "paused", reason="coaching")
        assert (r.status_code, r.json()["reason"]) == (200, "coaching")
        await floor.ready(0)
        assert (await floor.set_state(0, "signed_off")).json()["assignment_id"] is None
        changes = await floor.session.scalars(
            select(AgentStateChange.state).order_by(AgentStateChange.id)
        )
        assert list(changes) == ["ready", "paused", "ready", "signed_off"]

    async def test_bad_changes_are_refused_and_change_nothing(self, floor: Floor) -> None:
        r = await floor.set_state(0, "ready")
        assert (r.status_code, r.json()["code"]) == (422, "assignment_required")
        await floor.ready(0)
        r = await floor.set_state(0, "paused")
        assert (r.status_code, r.json()["code"]) == (422, "pause_reason_required")
        for state in ("on_call", "reserved"):
            r = await floor.set_state(0, state)
            assert (r.status_code, r.json()["code"]) == (409, "agent_state_conflict")
        assert (await floor.set_state(0, "dancing")).status_code == 422
        r = await floor.set_state(0, "ready", assignment_id=999_999)
        assert r.status_code == 404
        assert (await floor.state_of(0))["state"] == "ready"

    async def test_no_sign_off_on_a_call(self, floor: Floor) -> None:
        await floor.customers([{}])
        await floor.ready(0)
        [dial_id] = await floor.dial_ids(1)
        await floor.report(dial_id, "answered", agent_id=floor.agents[0][0].id)
        r = await floor.set_state(0, "signed_off")
        assert r.status_code == 409
        # Hanging up is the agent's to say too.
        assert (await floor.set_state(0, "wrap_up")).json()["state"] == "wrap_up"


class TestDialerReservesAgents:
    async def test_ready_reserved_and_back(self, floor: Floor) -> None:
        await floor.ready(0)
        path = f"/v1/dialer/agents/{floor.agents[0][0].id}/state"
        dialer = floor.auth(floor.dialer[1])
        r = await floor.client.put(path, json={"state": "reserved"}, headers=dialer)
        assert (r.status_code, r.json()["state"]) == (200, "reserved")
        r = await floor.client.put(path, json={"state": "paused"}, headers=dialer)
        assert r.status_code == 409
        r = await floor.client.put(path, json={"state": "ready"}, headers=dialer)
        assert r.json()["state"] == "ready"


class TestSupervisors:
    async def test_the_list_and_the_gauge(self, floor: Floor) -> None:
        await floor.ready(0)
        await floor.set_state(1, "paused", reason="lunch", assignment_id=floor.assignment.id)
        r = await floor.client.get(
            "/v1/agents/states",
            params={"assignment_id": floor.assignment.id},
            headers=floor.auth(floor.supervisor[1]),
        )
        assert r.status_code == 200, r.text
        states = {item["name"]: (item["state"], item["reason"]) for item in r.json()["items"]}
        assert states == {"Agent 0": ("ready", ""), "Agent 1": ("paused", "lunch")}
        paused = await floor.client.get(
            "/v1/agents/states", params={"state": "paused"}, headers=floor.auth(floor.supervisor[1])
        )
        assert [i["name"] for i in paused.json()["items"]] == ["Agent 1"]
        forbidden = await floor.client.get(
            "/v1/agents/states", headers=floor.auth(floor.agents[0][1])
        )
        assert forbidden.status_code == 403
        text = (await floor.client.get("/metrics")).text
        assert 'nextcall_agents{state="ready"} 1.0' in text
        assert 'nextcall_agents{state="paused"} 1.0' in text
