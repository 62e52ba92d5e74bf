"""Rule 13: /next may wait for a customer and returns the moment one becomes eligible."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import update

from services.api.app import create_app
from services.api.resources import Resources
from services.queue import AssignmentQueue
from services.worker.scheduler import Scheduler
from shared.infra.settings import Settings
from shared.models import Membership
from tests.api.live.conftest import eventually
from tests.api.world import World
from tests.factories import place_all

# Every wake-up must arrive well within this (measured: a few milliseconds).
WAKE_S = 2.0


def _waiting_next(world: World, agent: int, seconds: int) -> "asyncio.Task[httpx.Response]":
    return asyncio.create_task(world.next(agent=agent, wait_seconds=seconds))


async def _result(task: "asyncio.Task[httpx.Response]") -> tuple[httpx.Response, float]:
    """The response and how long after this call it came."""
    started = time.perf_counter()
    response = await asyncio.wait_for(task, timeout=15)
    return response, time.perf_counter() - started


class TestWakeUp:
    async def test_a_colleagues_release_wakes_a_waiting_next(
        self, world: World, resources: Resources
    ) -> None:
        (customer,) = await world.customers([{}])
        held = (await world.next(agent=0)).json()
        waiting = _waiting_next(world, agent=1, seconds=10)
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 1)

        r = await world.post(
            f"/v1/customers/{customer.id}/release", agent=0, lease_id=held["lease"]["id"]
        )
        response, latency = await _result(waiting)

        assert r.status_code == 200
        assert response.status_code == 200, response.text
        assert response.json()["customer"]["id"] == customer.id
        assert latency < WAKE_S
        assert resources.waker.watching() == 0

    async def test_a_follow_up_moved_to_now_wakes_a_waiting_next(
        self, world: World, resources: Resources
    ) -> None:
        (customer,) = await world.customers([{}])
        card = (await world.next(agent=0)).json()
        later = datetime.now(UTC) + timedelta(hours=1)
        r = await world.post(
            f"/v1/customers/{customer.id}/attempts",
            agent=0,
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            kind="call_back_later",
            at=later.isoformat(),
        )
        assert r.status_code == 200, r.text
        waiting = _waiting_next(world, agent=1, seconds=10)
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 1)

        r = await world.client.patch(
            f"/v1/customers/{customer.id}/follow-up",
            json={"at": datetime.now(UTC).isoformat()},
            headers=world.auth(world.supervisor[1]),
        )
        response, latency = await _result(waiting)

        assert r.status_code == 200, r.text
        assert response.json()["source"] == "shared_followup"
        assert latency < WAKE_S

    async def test_the_worker_tick_wakes_a_waiting_next_for_a_due_follow_up(
        self, world: World, resources: Resources, scheduler: Scheduler
    ) -> None:
        (customer,) = await world.customers([{}])
        queue = AssignmentQueue(world.redis, world.assignment.id)
        await queue.remove([customer.id])
        waiting = _waiting_next(world, agent=1, seconds=10)
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 1)
        # Due a moment ago, placed behind the API's back: only the tick can tell.
        due = datetime.now(UTC) - timedelta(milliseconds=50)
        await world.session.execute(
            update(Membership).values(followup_kind="shared", followup_at=due)
        )
        await world.session.commit()
        await place_all(world.session, world.redis, world.assignment)

        tick = await scheduler.tick(interval_ms=5000)  # a first tick looks back this far
        response, latency = await _result(waiting)

        assert tick.woken == (world.assignment.id,)
        assert response.json()["customer"]["id"] == customer.id
        assert latency < WAKE_S  # long before the waiter's own re-check

    async def test_an_api_process_wakes_the_waiters_of_another(
        self, world: World, resources: Resources, settings: Settings
    ) -> None:
        (customer,) = await world.customers([{}])
        held = (await world.next(agent=0)).json()
        waiting = _waiting_next(world, agent=1, seconds=10)
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 1)

        async with _other_process(settings) as other:
            r = await other.post(
                f"/v1/customers/{customer.id}/release",
                json={"lease_id": held["lease"]["id"]},
                headers=world.auth(world.agents[0][1]),
            )
            response, latency = await _result(waiting)

        assert r.status_code == 200
        assert response.json()["customer"]["id"] == customer.id
        assert latency < WAKE_S


class TestWaiting:
    async def test_nothing_coming_answers_empty_after_the_wait(
        self, world: World, resources: Resources
    ) -> None:
        started = time.perf_counter()
        r = await world.next(wait_seconds=1)
        elapsed = time.perf_counter() - started

        assert r.status_code == 200
        assert r.json()["status"] == "empty"
        assert r.json()["reasons"]["none_left"] is True
        assert 0.95 <= elapsed < 1.0 + WAKE_S
        assert resources.waker.watching() == 0

    async def test_a_customer_already_there_is_answered_at_once(self, world: World) -> None:
        await world.customers([{}])
        started = time.perf_counter()
        r = await world.next(wait_seconds=30)
        assert r.json()["status"] == "claimed"
        assert time.perf_counter() - started < WAKE_S

    async def test_waits_until_a_lease_ends_by_itself(self, world: World) -> None:
        """No message needed: the empty answer's next_eligible_at is when to look again."""
        world.assignment.lease_seconds = 1
        await world.session.commit()
        (customer,) = await world.customers([{}])
        # The lease runs from the claim, inside the first request: on a loaded machine much of
        # it may pass before that request returns, so the wait is measured from both ends.
        before_claim = time.perf_counter()
        assert (await world.next(agent=0)).json()["status"] == "claimed"

        started = time.perf_counter()
        r = await world.next(agent=1, wait_seconds=5)
        answered = time.perf_counter()

        assert r.json()["customer"]["id"] == customer.id
        assert answered - before_claim >= 1.0 - 0.01  # not before the lease ended
        assert answered - started < 1.0 + WAKE_S

    @pytest.mark.parametrize("seconds", [31, -1])
    async def test_wait_seconds_out_of_range_is_422(self, world: World, seconds: int) -> None:
        assert (await world.next(wait_seconds=seconds)).status_code == 422

    async def test_waiting_holds_no_database_connection_and_one_subscription(
        self, world: World, resources: Resources
    ) -> None:
        waiting = [_waiting_next(world, agent=i % 3, seconds=10) for i in range(12)]
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 12)

        checked_out = resources.engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
        clients = await world.redis.client_list()
        subscribers = [c for c in clients if c["name"] == "nextcall-api" and int(c["psub"]) > 0]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)

        assert checked_out == 0
        assert len(subscribers) == 1
        assert resources.waker.watching() == 0


class TestClientGone:
    async def test_a_disconnected_client_leaves_no_waiter(
        self, world: World, app: FastAPI, resources: Resources
    ) -> None:
        gone = asyncio.Event()
        body = b'{"wait_seconds": 30}'
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            if messages:
                return messages.pop()
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": f"/v1/assignments/{world.assignment.id}/next",
            "raw_path": f"/v1/assignments/{world.assignment.id}/next".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"test"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"authorization", f"Bearer {world.agents[0][1]}".encode()),
            ],
            "server": ("test", 80),
            "client": ("127.0.0.1", 50000),
        }
        call = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 1)

        gone.set()
        started = time.perf_counter()
        await asyncio.wait_for(call, timeout=5)

        assert time.perf_counter() - started < WAKE_S
        assert resources.waker.watching() == 0

    async def test_a_cancelled_request_leaves_no_waiter(
        self, world: World, resources: Resources
    ) -> None:
        waiting = _waiting_next(world, agent=0, seconds=30)
        await eventually(lambda: resources.waker.sleeping(world.assignment.id) == 1)

        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)

        assert resources.waker.watching() == 0


@asynccontextmanager
async def _other_process(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second API "process": its own app, Redis clients and pub/sub connection."""
    other = create_app(settings)
    async with LifespanManager(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as client:
            yield client
