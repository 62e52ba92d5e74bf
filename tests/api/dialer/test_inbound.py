"""Inbound calls (rule 36, seeds 003/004): the caller found, the card handed to an agent."""

import json

from tests.api.dialer.floor import Floor


async def _call(floor: Floor, caller: str, **more: object) -> dict[str, object]:
    r = await floor.client.post(
        "/v1/dialer/inbound", json={"caller": caller, **more}, headers=floor.auth(floor.dialer[1])
    )
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


class TestInbound:
    async def test_a_call_back_goes_to_an_agent_working_the_assignment(self, floor: Floor) -> None:
        customers = await floor.customers([{"phone_1": "+4722334455"}, {}])
        await floor.ready(2)
        found = await _call(floor, "22 33 44 55")  # as imports read it: region NO
        assert found["matched"] is True
        assert (found["customer_id"], found["agent_id"]) == (customers[0].id, floor.agents[2][0].id)
        assert (await floor.state_of(2))["state"] == "on_call"
        [heard] = [e for e in await floor.heard(2) if e["type"] == "call_bridged"]
        assert json.loads(heard["data"])["card"]["customer"]["id"] == customers[0].id
        # Held by the agent: no dialer reserves it meanwhile.
        reserved = (await floor.reserve(2)).json()["reservations"]
        assert [r["customer_id"] for r in reserved] == [customers[1].id]

    async def test_a_customer_called_before_comes_first(self, floor: Floor) -> None:
        customers = await floor.customers([{"phone_1": "+4722334455"}, {"phone_2": "+4722334455"}])
        await floor.ready(0)
        dial_ids = await floor.dial_ids(2)
        called = next(d for d in dial_ids if d.split(".")[1] == str(customers[1].id))
        await floor.report(called, "no_answer")
        found = await _call(floor, "+47 22 33 44 55", agent_id=floor.agents[0][0].id)
        assert found["customer_id"] == customers[1].id

    async def test_unknown_numbers_and_bad_input(self, floor: Floor) -> None:
        await floor.customers([{"phone_1": "+4722334455"}])
        await floor.ready(0)
        assert (await _call(floor, "+4799999999"))["matched"] is False
        r = await floor.client.post(
            "/v1/dialer/inbound", json={"caller": "hello?"}, headers=floor.auth(floor.dialer[1])
        )
        assert (r.status_code, r.json()["code"]) == (422, "invalid_phone")
        assert (await floor.state_of(0))["state"] == "ready"

    async def test_no_ready_agent_changes_nothing(self, floor: Floor) -> None:
        customers = await floor.customers([{"phone_1": "+4722334455"}])
        r = await floor.client.post(
            "/v1/dialer/inbound",
            json={"caller": "+4722334455"},
            headers=floor.auth(floor.dialer[1]),
        )
        assert (r.status_code, r.json()["code"]) == (409, "no_agent_ready")
        [reserved] = (await floor.reserve(1)).json()["reservations"]
        assert reserved["customer_id"] == customers[0].id
