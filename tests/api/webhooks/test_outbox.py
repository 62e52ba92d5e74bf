"""The outbox: an outcome, an attempt or a move writes its webhook deliveries with its event,
only for the types the tenant's endpoints subscribe to."""

from typing import Any

from sqlalchemy import select

from shared.models import Event, WebhookDelivery
from tests.api.webhooks.conftest import RECEIVER
from tests.api.world import World
from tests.factories import create_assignment, create_user


async def _endpoint(world: World, *types: str) -> int:
    """An endpoint for `types`, made by an administrator of the world's tenant."""
    _, token = await create_user(
        world.session, world.tenant, name="Admin", permissions=["administrator"]
    )
    r = await world.client.post(
        "/v1/webhooks/endpoints",
        json={"url": RECEIVER, "event_types": list(types)},
        headers=world.auth(token),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _write(world: World, what: str, **body: Any) -> dict[str, Any]:
    card = (await world.next()).json()
    r = await world.post(
        f"/v1/customers/{card['customer']['id']}/{what}",
        lease_id=card["lease"]["id"],
        version=card["membership"]["version"],
        **body,
    )
    assert r.status_code == 200, r.text
    written: dict[str, Any] = r.json()
    return written


async def _deliveries(world: World) -> list[WebhookDelivery]:
    found = await world.session.scalars(
        select(WebhookDelivery)
        .order_by(WebhookDelivery.id)
        .execution_options(populate_existing=True)
    )
    return list(found)


class TestOutbox:
    async def test_an_outcome_writes_its_delivery_with_its_event(self, world: World) -> None:
        endpoint = await _endpoint(world, "outcome.registered")
        (customer,) = await world.customers([{}])
        written = await _write(world, "outcomes", code="sale", comment="signed")
        (delivery,) = await _deliveries(world)
        event = await world.session.get(Event, written["event_id"])
        assert event is not None
        assert (delivery.endpoint_id, delivery.status, delivery.order_key) == (
            endpoint,
            "pending",
            f"customer:{customer.id}",
        )
        body = delivery.payload
        assert (body["id"], body["type"]) == (delivery.message_id, "outcome.registered")
        assert body["data"]["event_id"] == event.id
        assert body["data"]["customer_id"] == customer.id
        assert (body["data"]["code"], body["data"]["to_state"]) == ("sale", "sale")
        assert body["data"]["comment"] == "signed"
        # The customer's personal fields stay out of the message.
        assert "first_name" not in str(body)

    async def test_only_subscribed_types_are_written(self, world: World) -> None:
        await _endpoint(world, "attempt.registered")
        await world.customers([{}, {}])
        await _write(world, "outcomes", code="sale")
        assert await _deliveries(world) == []
        await _write(world, "attempts", kind="no_answer")
        (delivery,) = await _deliveries(world)
        assert delivery.event_type == "attempt.registered"
        assert delivery.payload["data"]["kind"] == "attempt"

    async def test_no_endpoint_writes_nothing(self, world: World) -> None:
        await world.customers([{}])
        await _write(world, "outcomes", code="sale")
        assert await _deliveries(world) == []

    async def test_a_move_writes_customer_moved(self, world: World) -> None:
        await _endpoint(world, "customer.moved")
        (customer,) = await world.customers([{}])
        target = await create_assignment(world.session, world.tenant, world.flow)
        r = await world.client.post(
            f"/v1/customers/{customer.id}/move",
            json={"assignment_id": target.id},
            headers=world.auth(world.supervisor[1]),
        )
        assert r.status_code == 200, r.text
        (delivery,) = await _deliveries(world)
        data = delivery.payload["data"]
        assert (delivery.event_type, data["customer_id"], data["assignment_id"]) == (
            "customer.moved",
            customer.id,
            target.id,
        )
        assert data["data"]["from_assignment_id"] == world.assignment.id
