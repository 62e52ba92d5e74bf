"""The dialer boundary (rule 36): reservations, every result kind, idempotent results,
expiry, permissions and tenants."""

import json

from sqlalchemy import func, select

from services.queue import AssignmentQueue, now_ms
from shared.models import (
    BlockedPhone,
    Dial,
    Event,
    EventKind,
    Membership,
    PresentationMode,
    WebhookDelivery,
    WebhookEndpoint,
)
from shared.webhooks.signing import new_secret
from tests.api.dialer.floor import DIALER, Floor
from tests.factories import create_assignment, create_flow, create_tenant, create_user

UNANSWERED = ["no_answer", "busy", "machine", "failed", "invalid_number"]


async def _events(floor: Floor, kind: EventKind) -> list[Event]:
    return list((await floor.session.scalars(select(Event).where(Event.kind == kind))).all())


async def _membership(floor: Floor, customer_id: int) -> Membership:
    found = await floor.session.scalar(
        select(Membership)
        .where(Membership.customer_id == customer_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


class TestReserve:
    async def test_each_customer_is_reserved_once(self, floor: Floor) -> None:
        customers = await floor.customers([{"phone_1": f"+4722334{i:03}"} for i in range(5)])
        first = (await floor.reserve(3)).json()["reservations"]
        second = (await floor.reserve(3)).json()["reservations"]
        ids = [r["customer_id"] for r in first + second]
        assert sorted(ids) == sorted(c.id for c in customers)
        assert first[0]["phones"] == ["+4722334000"]
        empty = (await floor.reserve(1)).json()
        assert empty["reservations"] == []
        assert empty["reasons"]["held"] == 5

    async def test_a_reserved_customer_is_invisible_to_agents(self, floor: Floor) -> None:
        await floor.customers([{}])
        await floor.dial_ids(1)
        r = await floor.client.post(
            f"/v1/assignments/{floor.assignment.id}/next",
            headers=floor.auth(floor.agents[0][1]),
        )
        assert r.json()["status"] == "empty"

    async def test_an_unreported_reservation_expires_and_returns(self, floor: Floor) -> None:
        customers = await floor.customers([{}])
        [dial_id] = await floor.dial_ids(1)
        # The worker's sweep after the reservation's 60 s.
        await AssignmentQueue(floor.redis, floor.assignment.id).sweep(now=now_ms() + 61_000)
        again = (await floor.reserve(1)).json()["reservations"]
        assert [r["customer_id"] for r in again] == [customers[0].id]
        late = await floor.report(dial_id, "no_answer")
        assert late.status_code == 409
        assert late.json()["code"] == "dial_expired"
        assert await _events(floor, EventKind.dial_result) == []

    async def test_a_customer_barred_while_queued_is_never_reserved(self, floor: Floor) -> None:
        barred, free = await floor.customers([{"phone_1": "+4722334100"}, {}])
        # Blocked behind the queue's back (as a register import still re-placing would be):
        # the reservation's card read finds the bar and puts the customer with the blocked.
        floor.session.add(BlockedPhone(tenant_id=floor.tenant.id, phone="+4722334100"))
        await floor.session.commit()
        reserved = (await floor.reserve(2)).json()["reservations"]
        assert [r["customer_id"] for r in reserved] == [free.id]
        depth = await AssignmentQueue(floor.redis, floor.assignment.id).depth()
        assert depth["blocked"] == 1, depth
        assert barred.id not in [
            r["customer_id"] for r in (await floor.reserve(2)).json()["reservations"]
        ]

    async def test_bad_count_is_422(self, floor: Floor) -> None:
        await floor.customers([{}])
        for count in (0, 101, "two"):
            r = await floor.client.post(
                f"/v1/dialer/assignments/{floor.assignment.id}/reservations",
                json={"count": count},
                headers=floor.auth(floor.dialer[1]),
            )
            assert r.status_code == 422
        assert (await floor.reserve(1)).json()["reservations"]  # nothing was reserved

    async def test_preview_assignments_are_not_dialed(self, floor: Floor) -> None:
        floor.assignment.presentation_mode = PresentationMode.preview.value
        await floor.session.commit()
        r = await floor.reserve(1)
        assert r.status_code == 409
        assert r.json()["code"] == "assignment_not_dialed"

    async def test_progressive_refuses_manual_select(self, floor: Floor) -> None:
        floor.assignment.presentation_mode = PresentationMode.progressive.value
        await floor.session.commit()
        customers = await floor.customers([{}])
        r = await floor.client.post(
            f"/v1/customers/{customers[0].id}/select", headers=floor.auth(floor.agents[0][1])
        )
        assert r.status_code == 403
        assert (await floor.reserve(1)).json()["reservations"]


class TestPermissions:
    async def test_an_agent_token_cannot_reserve_or_report(self, floor: Floor) -> None:
        await floor.customers([{}])
        r = await floor.reserve(1, token=floor.agents[0][1])
        assert r.status_code == 403
        [dial_id] = await floor.dial_ids(1)
        r = await floor.client.post(
            f"/v1/dialer/dials/{dial_id}/result",
            json={"result": "busy"},
            headers=floor.auth(floor.agents[0][1]),
        )
        assert r.status_code == 403

    async def test_a_dialer_cannot_reach_another_tenant(self, floor: Floor) -> None:
        await floor.customers([{}])
        other = await create_tenant(floor.session, name="Other")
        _, token = await create_user(floor.session, other, name="Their dialer", permissions=DIALER)
        r = await floor.reserve(1, token=token)
        assert r.status_code == 404
        r = await floor.client.get(
            f"/v1/dialer/assignments/{floor.assignment.id}/pacing", headers=floor.auth(token)
        )
        assert r.status_code == 404
        [dial_id] = await floor.dial_ids(1)
        r = await floor.client.post(
            f"/v1/dialer/dials/{dial_id}/result",
            json={"result": "busy"},
            headers=floor.auth(token),
        )
        assert r.status_code == 404
        assert await _events(floor, EventKind.dial_result) == []

    async def test_a_dialer_cannot_act_as_an_agent(self, floor: Floor) -> None:
        r = await floor.client.put(
            "/v1/me/state",
            json={"state": "ready", "assignment_id": floor.assignment.id},
            headers=floor.auth(floor.dialer[1]),
        )
        assert r.status_code == 403


class TestUnanswered:
    async def test_each_is_a_system_attempt(self, floor: Floor) -> None:
        customers = await floor.customers([{} for _ in UNANSWERED])
        dial_ids = await floor.dial_ids(len(UNANSWERED))
        for dial_id, result in zip(dial_ids, UNANSWERED, strict=True):
            r = await floor.report(dial_id, result, ring_seconds=25)
            assert r.status_code == 200, r.text
            assert r.json()["replayed"] is False
        for customer in customers:
            assert (await _membership(floor, customer.id)).attempts == 1
        events = await _events(floor, EventKind.dial_result)
        assert sorted(e.code or "" for e in events) == sorted(UNANSWERED)
        assert {e.user_id for e in events} == {None}
        assert all(e.data["system_attempt"] is True for e in events)
        # No agent attempt was written, and the retry rules (an hour's cooldown) placed them.
        assert await _events(floor, EventKind.attempt) == []
        depth = await AssignmentQueue(floor.redis, floor.assignment.id).depth()
        assert (depth["cool"], depth["held"]) == (len(UNANSWERED), 0)

    async def test_the_attempt_limit_applies(self, floor: Floor) -> None:
        floor.assignment.attempt_limit = 1
        floor.assignment.attempt_limit_action = "stop"
        floor.assignment.cooldown_seconds = 0
        await floor.session.commit()
        await floor.customers([{}])
        [dial_id] = await floor.dial_ids(1)
        await floor.report(dial_id, "busy")
        depth = await AssignmentQueue(floor.redis, floor.assignment.id).depth()
        assert depth["limit"] == 1
        assert (await floor.reserve(1)).json()["reasons"]["at_attempt_limit"] == 1

    async def test_abandoned_is_called_back_first(self, floor: Floor) -> None:
        customers = await floor.customers([{}, {}, {}])
        dial_ids = await floor.dial_ids(2)
        abandoned = int(dial_ids[1].split(".")[1])
        r = await floor.report(dial_ids[1], "abandoned")
        assert r.status_code == 200, r.text
        membership = await _membership(floor, abandoned)
        assert (membership.attempts, membership.followup_kind) == (0, "shared")
        # Served before the free customer that is left.
        [again] = (await floor.reserve(1)).json()["reservations"]
        assert (again["customer_id"], again["source"]) == (abandoned, "shared_followup")
        assert abandoned in {c.id for c in customers}


class TestIdempotent:
    async def test_the_same_result_twice_is_recorded_once(self, floor: Floor) -> None:
        await floor.customers([{}])
        [dial_id] = await floor.dial_ids(1)
        first = await floor.report(dial_id, "busy")
        again = await floor.report(dial_id, "busy")
        assert again.status_code == 200
        assert again.json()["replayed"] is True
        assert again.json()["event_id"] == first.json()["event_id"]
        assert len(await _events(floor, EventKind.dial_result)) == 1

    async def test_another_result_for_a_reported_dial_is_409(self, floor: Floor) -> None:
        customers = await floor.customers([{}])
        [dial_id] = await floor.dial_ids(1)
        await floor.report(dial_id, "busy")
        r = await floor.report(dial_id, "no_answer")
        assert r.status_code == 409
        assert r.json()["code"] == "dial_already_reported"
        assert (await _membership(floor, customers[0].id)).attempts == 1

    async def test_bad_input_changes_nothing(self, floor: Floor) -> None:
        customers = await floor.customers([{}])
        [dial_id] = await floor.dial_ids(1)
        for body in ({"result": "maybe"}, {"result": "busy", "ring_seconds": -1}, {}):
            r = await floor.client.post(
                f"/v1/dialer/dials/{dial_id}/result",
                json=body,
                headers=floor.auth(floor.dialer[1]),
            )
            assert r.status_code == 422
        r = await floor.report("not-a-dial", "busy")
        assert r.status_code == 422
        r = await floor.report(f"{floor.assignment.id}.999999.abc", "busy")
        assert r.status_code == 409
        assert (await _membership(floor, customers[0].id)).attempts == 0
        count = await floor.session.scalar(select(func.count()).select_from(Dial))
        assert count == 0


class TestAnswered:
    async def test_the_lease_moves_to_the_agent_who_gets_the_card(self, floor: Floor) -> None:
        customers = await floor.customers([{}])
        await floor.ready(1)
        [dial_id] = await floor.dial_ids(1)
        agent_id = floor.agents[1][0].id
        r = await floor.report(dial_id, "answered", agent_id=agent_id, ring_seconds=6)
        assert r.status_code == 200, r.text
        assert r.json()["agent_id"] == agent_id
        state = await floor.state_of(1)
        assert (state["state"], state["customer_id"], state["dial_id"]) == (
            "on_call",
            customers[0].id,
            dial_id,
        )
        [heard] = [e for e in await floor.heard(1) if e["type"] == "call_bridged"]
        card = json.loads(heard["data"])["card"]
        assert card["customer"]["id"] == customers[0].id
        # The agent holds it now: it registers the outcome with the card's lease.
        w = await floor.client.post(
            f"/v1/customers/{customers[0].id}/outcomes",
            json={
                "lease_id": card["lease"]["id"],
                "version": card["membership"]["version"],
                "code": "sale",
            },
            headers=floor.auth(floor.agents[1][1]),
        )
        assert w.status_code == 200, w.text

    async def test_no_agent_named_goes_to_the_longest_ready(self, floor: Floor) -> None:
        await floor.customers([{}])
        await floor.ready(2)
        await floor.ready(0)
        [dial_id] = await floor.dial_ids(1)
        r = await floor.report(dial_id, "answered")
        assert r.json()["agent_id"] == floor.agents[2][0].id

    async def test_no_agent_ready_changes_nothing(self, floor: Floor) -> None:
        await floor.customers([{}])
        [dial_id] = await floor.dial_ids(1)
        r = await floor.report(dial_id, "answered")
        assert r.status_code == 409
        assert r.json()["code"] == "no_agent_ready"
        # The dialer still holds it and reports the abandoned call.
        assert (await floor.report(dial_id, "abandoned")).status_code == 200

    async def test_an_agent_holds_at_most_one_call(self, floor: Floor) -> None:
        await floor.customers([{}, {}])
        await floor.ready(0)
        first, second = await floor.dial_ids(2)
        agent_id = floor.agents[0][0].id
        assert (await floor.report(first, "answered", agent_id=agent_id)).status_code == 200
        r = await floor.report(second, "answered", agent_id=agent_id)
        assert r.status_code == 409
        assert r.json()["code"] == "agent_busy"
        assert (await floor.state_of(0))["dial_id"] == first
        assert len(await _events(floor, EventKind.dial_result)) == 1

    async def test_hangup_puts_the_agent_in_wrap_up(self, floor: Floor) -> None:
        await floor.customers([{}])
        await floor.ready(0)
        [dial_id] = await floor.dial_ids(1)
        await floor.report(dial_id, "answered", agent_id=floor.agents[0][0].id)
        r = await floor.client.post(
            f"/v1/dialer/dials/{dial_id}/hangup", headers=floor.auth(floor.dialer[1])
        )
        assert r.status_code == 200, r.text
        assert (await floor.state_of(0))["state"] == "wrap_up"
        await floor.ready(0)
        assert (await floor.state_of(0))["state"] == "ready"


class TestPacing:
    async def test_one_call_per_ready_agent_not_given_one(self, floor: Floor) -> None:
        await floor.customers([{}, {}])
        await floor.ready(0)
        await floor.ready(1)
        path = f"/v1/dialer/assignments/{floor.assignment.id}/pacing"
        r = await floor.client.get(path, headers=floor.auth(floor.dialer[1]))
        assert r.status_code == 200, r.text
        assert (r.json()["calls"], r.json()["ready_agents"]) == (2, 2)
        await floor.dial_ids(1)
        r = await floor.client.get(path, headers=floor.auth(floor.dialer[1]))
        assert (r.json()["calls"], r.json()["calls_in_flight"]) == (1, 1)

    async def test_no_agents_no_calls(self, floor: Floor) -> None:
        await floor.customers([{}])
        r = await floor.client.get(
            f"/v1/dialer/assignments/{floor.assignment.id}/pacing",
            headers=floor.auth(floor.dialer[1]),
        )
        assert r.json()["calls"] == 0

    async def test_another_tenants_assignment_is_unknown(self, floor: Floor) -> None:
        other = await create_tenant(floor.session, name="Other")
        flow = await create_flow(floor.session, other)
        theirs = await create_assignment(
            floor.session, other, flow, presentation_mode=PresentationMode.predictive.value
        )
        r = await floor.client.get(
            f"/v1/dialer/assignments/{theirs.id}/pacing", headers=floor.auth(floor.dialer[1])
        )
        assert r.status_code == 404


class TestWebhooks:
    async def test_dial_results_and_agent_states_are_written_with_their_change(
        self, floor: Floor
    ) -> None:
        floor.session.add(
            WebhookEndpoint(
                tenant_id=floor.tenant.id,
                url="https://crm.example.com/hooks",
                event_types=["dial.result", "agent.state_changed"],
                secret=new_secret(),
            )
        )
        await floor.session.commit()
        await floor.customers([{}])
        await floor.ready(0)
        [dial_id] = await floor.dial_ids(1)
        assert (await floor.report(dial_id, "no_answer")).status_code == 200
        rows = (await floor.session.scalars(select(WebhookDelivery))).all()
        by_type = sorted((row.event_type, row.payload["data"].get("state")) for row in rows)
        assert by_type == [("agent.state_changed", "ready"), ("dial.result", None)], by_type
