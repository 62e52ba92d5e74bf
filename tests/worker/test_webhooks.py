"""The worker's delivery of webhooks to a receiver the test starts on loopback: signatures
verify, each customer's messages arrive in order, a receiver that is down for a while loses
nothing, the last failure leaves a dead letter that replays, and private targets are refused
when the deployment does not allow them."""

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.worker.scheduler import Scheduler
from services.worker.webhooks import Deliverer
from shared.models import Tenant, WebhookDelivery, WebhookEndpoint
from shared.webhooks import outbox, signing
from shared.webhooks.types import Message, WebhookType, customer_key
from tests.factories import create_tenant, create_user
from tests.webhooks.receiver import Receiver
from tests.worker.conftest import NOW_MS, Campaign, ahead

# A minute of retries in about a second: the schedule is a setting.
FAST = [0.1, 0.15, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        yield client


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await create_tenant(session)


@pytest.fixture
async def endpoint(session: AsyncSession, tenant: Tenant, receiver: Receiver) -> WebhookEndpoint:
    row = WebhookEndpoint(
        tenant_id=tenant.id,
        url=receiver.url,
        event_types=[t.value for t in WebhookType],
        secret=signing.new_secret(),
    )
    session.add(row)
    await session.commit()
    return row


@dataclass
class Rig:
    """A tenant with one endpoint at the receiver, and what sends to it."""

    session: AsyncSession
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    tenant: Tenant
    endpoint: WebhookEndpoint
    receiver: Receiver

    def deliverer(self, *, delays: list[float] = FAST, allow_private: bool = True) -> Deliverer:
        return Deliverer(
            sessionmaker=self.sessionmaker,
            client=self.http,
            delays_s=delays,
            allow_private=allow_private,
            timeout_s=2.0,
            rng=random.Random(7),
        )

    async def send(self, *customers: int) -> None:
        """One outcome message per customer named, in this order, committed."""
        at = datetime.now(UTC)
        messages = [
            Message(WebhookType.outcome_registered, {"customer_id": c, "n": i}, customer_key(c), at)
            for i, c in enumerate(customers)
        ]
        await outbox.enqueue(self.session, self.tenant.id, *messages)
        await self.session.commit()

    async def rows(self) -> list[WebhookDelivery]:
        found = await self.session.scalars(
            select(WebhookDelivery)
            .order_by(WebhookDelivery.id)
            .execution_options(populate_existing=True)
        )
        return list(found)

    async def all_delivered(self) -> bool:
        return all(r.status == "delivered" for r in await self.rows())

    async def delivered(self, count: int) -> bool:
        return sum(r.status == "delivered" for r in await self.rows()) == count


@pytest.fixture
async def rig(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    tenant: Tenant,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
) -> Rig:
    return Rig(session, sessionmaker, http, tenant, endpoint, receiver)


async def deliver_until(
    d: Deliverer, done: Callable[[], Awaitable[bool]], *, within_s: float = 5.0
) -> None:
    """Passes of the deliverer, as its loop runs them, until `done`."""
    deadline = time.monotonic() + within_s
    while not await done():
        assert time.monotonic() < deadline, "not done in time"
        await d.deliver_due()
        await asyncio.sleep(0.02)


def order(receiver: Receiver) -> dict[int, list[int]]:
    """The `n` of each message received, per customer, in the order they arrived."""
    seen: dict[int, list[int]] = {}
    for r in receiver.received:
        data = r.json["data"]
        seen.setdefault(data["customer_id"], []).append(data["n"])
    return seen


class TestDelivery:
    async def test_signed_as_standard_webhooks_and_logged(self, rig: Rig) -> None:
        await rig.send(1, 2)
        assert await rig.deliverer().deliver_due() == 2
        assert len(rig.receiver.received) == 2
        for got in rig.receiver.received:
            verified = got.verified(rig.endpoint.secret)
            assert verified["type"] == "outcome.registered"
            assert got.headers["webhook-id"] == verified["id"]
            assert got.headers["content-type"] == "application/json"
        for row in await rig.rows():
            assert (row.status, row.attempts, row.last_status, row.last_error) == (
                "delivered",
                1,
                200,
                None,
            )
            assert row.delivered_at is not None

    async def test_each_customers_messages_arrive_in_order(self, rig: Rig) -> None:
        await rig.send(1, 2, 1, 1, 2)
        d = rig.deliverer()
        # A pass sends only the first waiting message of each customer.
        assert await d.deliver_due() == 2
        await deliver_until(d, rig.all_delivered)
        assert order(rig.receiver) == {1: [0, 2, 3], 2: [1, 4]}

    async def test_two_workers_send_each_message_once(self, rig: Rig) -> None:
        await rig.send(*range(1, 21))
        a, b = rig.deliverer(), rig.deliverer()
        sent = await asyncio.gather(a.deliver_due(), b.deliver_due())
        assert sum(sent) == 20
        assert sorted(r.json["data"]["n"] for r in rig.receiver.received) == list(range(20))


class TestFailures:
    async def test_a_receiver_down_for_a_while_loses_nothing(self, rig: Rig) -> None:
        await rig.receiver.stop()
        await rig.send(1, 1, 2)
        d = rig.deliverer()

        async def tried_thrice() -> bool:
            first, _, other = await rig.rows()
            return first.attempts >= 3 and other.attempts >= 3

        down = time.monotonic()
        await deliver_until(d, tried_thrice)
        # Down for longer than the schedule's first three delays (each at least 3/4 of it).
        assert time.monotonic() - down >= 0.75 * sum(FAST[:2])
        first, second, other = await rig.rows()
        # The down time spanned several tries of each customer's first message, on the
        # schedule; the customer's later message waited behind its first, untried.
        assert first.attempts >= 3 and other.attempts >= 3
        assert (first.status, first.last_error) == ("pending", "could not connect")
        assert (second.status, second.attempts) == ("pending", 0)
        await rig.receiver.start()
        await deliver_until(d, rig.all_delivered)
        assert order(rig.receiver) == {1: [0, 1], 2: [2]}
        for got in rig.receiver.received:
            got.verified(rig.endpoint.secret)

    async def test_dead_letters_replay_from_the_api(
        self, rig: Rig, client: httpx.AsyncClient
    ) -> None:
        rig.receiver.status = 503
        await rig.send(1)
        d = rig.deliverer(delays=[0.05, 0.05])

        async def dead() -> bool:
            return (await rig.rows())[0].status == "dead"

        await deliver_until(d, dead)
        (letter,) = await rig.rows()
        assert (letter.attempts, letter.last_status, letter.last_error) == (
            3,
            503,
            "answered 503",
        )
        # A dead letter holds back nothing: the customer's next message is delivered.
        rig.receiver.status = 200
        await rig.send(1)
        await deliver_until(d, lambda: rig.delivered(1))
        _, token = await create_user(
            rig.session, rig.tenant, name="Admin", permissions=["administrator"]
        )
        r = await client.post(
            f"/v1/webhooks/endpoints/{rig.endpoint.id}/replay-dead",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.json() == {"replayed": 1}
        await deliver_until(d, rig.all_delivered)
        assert [got.headers["webhook-id"] for got in rig.receiver.received][-1] == letter.message_id
        replayed = (await rig.rows())[0]
        assert (replayed.status, replayed.replays, replayed.attempts) == ("delivered", 1, 1)

    async def test_a_private_target_is_refused_when_not_allowed(self, rig: Rig) -> None:
        await rig.send(1)
        await rig.deliverer(allow_private=False).deliver_due()
        (row,) = await rig.rows()
        assert rig.receiver.received == []
        assert row.status == "pending" and "loopback" in (row.last_error or "")


class TestOutboxTransaction:
    async def test_a_rolled_back_change_leaves_no_delivery(self, rig: Rig) -> None:
        at = datetime.now(UTC)
        data = {"state": "ready"}
        assert await outbox.enqueue_agent_state(rig.session, rig.tenant.id, 5, data, at=at) == 1
        (pending,) = await rig.rows()
        assert (pending.order_key, pending.payload["data"]) == (
            "agent:5",
            {"user_id": 5, "state": "ready"},
        )
        await rig.session.rollback()
        assert await rig.rows() == []


class TestFollowupDue:
    async def test_one_delivery_whatever_the_replicas(
        self,
        campaign: Campaign,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> None:
        session = campaign.session
        session.add(
            WebhookEndpoint(
                tenant_id=campaign.tenant.id,
                url="https://crm.example.com/hooks",
                event_types=["followup.due"],
                secret=signing.new_secret(),
            )
        )
        (customer,) = await campaign.customers(1)
        await campaign.set_membership(
            customer,
            state="interested",
            followup_kind="personal",
            followup_at=ahead(seconds=2),
            followup_owner_id=campaign.agent.id,
        )
        replicas = [Scheduler(sessionmaker=sessionmaker, redis=redis) for _ in range(2)]
        for replica in replicas:
            await replica.tick(now=NOW_MS + 2000, interval_ms=250)
        (delivery,) = (await session.scalars(select(WebhookDelivery))).all()
        assert (delivery.event_type, delivery.order_key) == (
            "followup.due",
            f"customer:{customer.id}",
        )
        assert delivery.payload["data"] == {
            "assignment_id": campaign.assignment.id,
            "customer_id": customer.id,
            "due_at": "2030-01-15T12:00:02+00:00",
            "owner_id": campaign.agent.id,
        }
