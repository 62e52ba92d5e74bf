"""Idempotency-Key over HTTP (issue 14, point 1): a replay gets the first answer and nothing is
done twice, another request under the same key is refused, a key still in use is refused, and
keys are the caller's own (decision 025)."""

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import func, select

from services.api.idempotency import records
from shared.models import Customer, Event
from tests.api.world import World
from tests.factories import create_tenant, create_user


def _outcome(card: dict[str, Any], **body: Any) -> dict[str, Any]:
    return {
        "lease_id": card["lease"]["id"],
        "version": card["membership"]["version"],
        "code": "not_interested",
        **body,
    }


async def _send(
    world: World, path: str, body: dict[str, Any], key: str | None, agent: int = 0
) -> httpx.Response:
    headers = world.auth(world.agents[agent][1])
    if key is not None:
        headers["Idempotency-Key"] = key
    return await world.client.post(path, json=body, headers=headers)


async def _events(world: World, customer_id: int) -> int:
    count = await world.session.scalar(
        select(func.count()).select_from(Event).where(Event.customer_id == customer_id)
    )
    assert count is not None
    return count


async def _card(world: World, agent: int = 0) -> dict[str, Any]:
    r = await world.next(agent=agent)
    assert r.status_code == 200 and r.json()["status"] == "claimed", r.text
    card: dict[str, Any] = r.json()
    return card


def _no_answer(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "lease_id": card["lease"]["id"],
        "version": card["membership"]["version"],
        "kind": "no_answer",
    }


def _outcomes_path(card: dict[str, Any]) -> str:
    return f"/v1/customers/{card['customer']['id']}/outcomes"


class TestReplay:
    async def test_an_outcome_sent_again_gets_the_first_answer_and_writes_once(
        self, world: World
    ) -> None:
        await world.customers([{}])
        card = await _card(world)
        before = await _events(world, card["customer"]["id"])

        first = await _send(world, _outcomes_path(card), _outcome(card), "k-1")
        again = await _send(world, _outcomes_path(card), _outcome(card), "k-1")

        assert first.status_code == 200, first.text
        assert (again.status_code, again.content) == (200, first.content)
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert await _events(world, card["customer"]["id"]) == before + 1

    async def test_an_attempt_sent_again_gets_the_first_answer(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        path = f"/v1/customers/{card['customer']['id']}/attempts"
        body = _no_answer(card)

        first = await _send(world, path, body, "attempt-1")
        again = await _send(world, path, body, "attempt-1")

        assert first.status_code == 200, first.text
        assert (again.status_code, again.json()) == (200, first.json())

    async def test_a_creation_sent_again_creates_one_customer(self, world: World) -> None:
        body = {"external_id": "made-once", "first_name": "Kari"}
        first = await _send(world, "/v1/customers", body, "create-1")
        again = await _send(world, "/v1/customers", body, "create-1")
        # Without the key the same body is a duplicate, refused.
        unkeyed = await _send(world, "/v1/customers", body, None)

        assert first.status_code == 201, first.text
        assert (again.status_code, again.json()) == (201, first.json())
        assert unkeyed.status_code == 409
        count = await world.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.external_id == "made-once")
        )
        assert count == 1

    async def test_a_refusal_is_replayed_too(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        stale = _outcome(card, version=card["membership"]["version"] + 5)

        first = await _send(world, _outcomes_path(card), stale, "stale-1")
        again = await _send(world, _outcomes_path(card), stale, "stale-1")

        assert first.status_code == 409, first.text
        assert (again.status_code, again.json()) == (409, first.json())


class TestRefusals:
    async def test_the_same_key_with_another_body_is_refused_and_writes_nothing(
        self, world: World
    ) -> None:
        await world.customers([{}])
        card = await _card(world)
        first = await _send(world, _outcomes_path(card), _outcome(card), "k-2")
        after_first = await _events(world, card["customer"]["id"])

        other = await _send(
            world, _outcomes_path(card), _outcome(card, comment="changed my mind"), "k-2"
        )

        assert first.status_code == 200, first.text
        assert other.status_code == 422, other.text
        assert other.json()["code"] == "idempotency_key_reused"
        assert await _events(world, card["customer"]["id"]) == after_first

    async def test_a_key_still_in_use_is_refused_with_its_own_code(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        agent, token = world.agents[0]
        body = json.dumps(_outcome(card)).encode()
        # The first request with this key, still running (on this or another API process).
        running = records.record_key(world.tenant.id, agent.id, "busy-1")
        first = records.fingerprint(_outcomes_path(card), b"", body)
        assert await records.claim(world.redis, running, first) is None

        second = await world.client.post(
            _outcomes_path(card),
            content=body,
            headers={
                **world.auth(token),
                "Content-Type": "application/json",
                "Idempotency-Key": "busy-1",
            },
        )

        assert second.status_code == 409, second.text
        assert second.json()["code"] == "idempotency_key_in_use"
        assert await _events(world, card["customer"]["id"]) == 0

    async def test_concurrent_duplicates_write_once(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        before = await _events(world, card["customer"]["id"])

        answers = await asyncio.gather(
            *(_send(world, _outcomes_path(card), _outcome(card), "twins") for _ in range(4))
        )

        done = [a for a in answers if a.status_code == 200]
        busy = [a for a in answers if a.status_code == 409]
        assert len(done) + len(busy) == len(answers), [a.text for a in answers]
        assert done and {a.content for a in done} == {done[0].content}
        assert all(a.json()["code"] == "idempotency_key_in_use" for a in busy)
        assert await _events(world, card["customer"]["id"]) == before + 1

    async def test_a_malformed_key_is_refused(self, world: World) -> None:
        for key in ("", "has space", "x" * 256):
            r = await _send(world, "/v1/customers", {"external_id": "never"}, key)
            assert r.status_code == 400, (key, r.text)
            assert r.json()["code"] == "idempotency_key_invalid"
        count = await world.session.scalar(select(func.count()).select_from(Customer))
        assert count == 0


class TestScope:
    async def test_one_users_key_does_not_answer_another_user(self, world: World) -> None:
        first = await _send(world, "/v1/customers", {"external_id": "mine"}, "shared", agent=0)
        theirs = await _send(world, "/v1/customers", {"external_id": "yours"}, "shared", agent=1)

        assert (first.status_code, theirs.status_code) == (201, 201), theirs.text
        assert theirs.json()["customer"]["id"] != first.json()["customer"]["id"]

    async def test_one_tenants_key_does_not_answer_another_tenant(self, world: World) -> None:
        other_tenant = await create_tenant(world.session, name="Other")
        _, other_token = await create_user(world.session, other_tenant)
        body = {"external_id": "same-everywhere"}
        first = await _send(world, "/v1/customers", body, "shared")

        theirs = await world.client.post(
            "/v1/customers",
            json=body,
            headers={**world.auth(other_token), "Idempotency-Key": "shared"},
        )

        assert (first.status_code, theirs.status_code) == (201, 201), theirs.text
        assert theirs.json()["customer"]["id"] != first.json()["customer"]["id"]

    async def test_an_unknown_token_with_a_key_is_refused_as_ever(self, world: World) -> None:
        r = await world.client.post(
            "/v1/customers",
            json={"external_id": "x"},
            headers={"Authorization": "Bearer nope", "Idempotency-Key": "k"},
        )

        assert r.status_code == 401
        assert r.json()["code"] == "unauthorized"


class TestReplayWithoutKey:
    async def test_a_settled_outcome_sent_again_is_already_recorded(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        first = await _send(world, _outcomes_path(card), _outcome(card), None)

        again = await _send(world, _outcomes_path(card), _outcome(card), None)

        assert first.status_code == 200, first.text
        assert again.status_code == 409, again.text
        body = again.json()
        assert body["code"] == "already_recorded"
        assert body["event_id"] == first.json()["event_id"]
        assert await _events(world, card["customer"]["id"]) == 1

    async def test_a_settled_attempt_sent_again_is_already_recorded(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        path = f"/v1/customers/{card['customer']['id']}/attempts"
        body = _no_answer(card)
        first = await _send(world, path, body, None)

        again = await _send(world, path, body, None)

        assert (again.status_code, again.json()["code"]) == (409, "already_recorded")
        assert again.json()["event_id"] == first.json()["event_id"]

    async def test_another_write_on_the_settled_lease_is_a_lost_lease(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        assert (await _send(world, _outcomes_path(card), _outcome(card), None)).status_code == 200

        other = await _send(world, _outcomes_path(card), _outcome(card, comment="other"), None)

        assert other.status_code == 409, other.text
        assert other.json()["code"] == "lease_lost"

    async def test_a_lost_lease_is_not_already_recorded(self, world: World) -> None:
        await world.customers([{}])
        card = await _card(world)
        released = await world.post(
            f"/v1/customers/{card['customer']['id']}/release", lease_id=card["lease"]["id"]
        )
        assert released.status_code == 200, released.text

        r = await _send(world, _outcomes_path(card), _outcome(card), None)

        assert r.status_code == 409, r.text
        assert r.json()["code"] == "lease_lost"
