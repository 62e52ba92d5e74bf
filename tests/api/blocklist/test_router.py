"""/v1/blocked-phones over HTTP: numbers are normalised, and blocking takes customers out of
their queue while unblocking brings them back (rule 12)."""

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import AssignmentQueue, Claimed, Empty
from shared.models import Assignment, BlockedPhone, Customer
from tests.api.orgs import Org
from tests.factories import add_customers, create_assignment, create_flow

PHONE = "+4722334455"


async def queued(
    session: AsyncSession, redis: Redis, org: Org, phones: list[dict[str, str]]
) -> tuple[Assignment, list[Customer]]:
    """An assignment of the org with one customer per row of phone numbers, in its queue."""
    flow = await create_flow(session, org.tenant)
    assignment = await create_assignment(session, org.tenant, flow)
    return assignment, await add_customers(session, redis, assignment, phones)


async def claim(redis: Redis, assignment: Assignment) -> Claimed | Empty:
    return await AssignmentQueue(redis, assignment.id).claim(user_id=4242, lease_seconds=60)


class TestBlockPhone:
    async def test_stores_the_number_normalised(self, acme: Org) -> None:
        r = await acme.post("/v1/blocked-phones", {"phone": "22 33 44 55", "reason": "asked"})
        assert r.status_code == 201
        body = r.json()
        assert (body["phone"], body["reason"], body["customers_affected"]) == (PHONE, "asked", 0)

    async def test_blocking_a_customers_only_phone_takes_it_out_of_the_queue(
        self, acme: Org, session: AsyncSession, redis: Redis
    ) -> None:
        assignment, _ = await queued(session, redis, acme, [{"phone_1": PHONE}])
        r = await acme.post("/v1/blocked-phones", {"phone": "+47 22 33 44 55"}, role="setup")
        assert r.status_code == 201
        assert r.json()["customers_affected"] == 1
        got = await claim(redis, assignment)
        assert isinstance(got, Empty)
        assert got.blocked == 1

    async def test_a_customer_with_another_callable_phone_is_still_served(
        self, acme: Org, session: AsyncSession, redis: Redis
    ) -> None:
        assignment, customers = await queued(
            session, redis, acme, [{"phone_1": PHONE, "phone_2": "+4799887766"}]
        )
        await acme.post("/v1/blocked-phones", {"phone": PHONE})
        got = await claim(redis, assignment)
        assert isinstance(got, Claimed)
        assert got.customer_id == customers[0].id

    async def test_another_tenants_customer_with_the_number_is_not_touched(
        self, acme: Org, globex: Org, session: AsyncSession, redis: Redis
    ) -> None:
        theirs, _ = await queued(session, redis, globex, [{"phone_1": PHONE}])
        r = await acme.post("/v1/blocked-phones", {"phone": PHONE})
        assert r.json()["customers_affected"] == 0
        assert isinstance(await claim(redis, theirs), Claimed)

    async def test_a_number_already_blocked_answers_409(self, acme: Org) -> None:
        await acme.post("/v1/blocked-phones", {"phone": PHONE})
        r = await acme.post("/v1/blocked-phones", {"phone": "22334455"})
        assert r.status_code == 409

    async def test_an_invalid_number_answers_422(self, acme: Org, session: AsyncSession) -> None:
        for phone in ("not a number", "12", "", "+47 22\x00334455"):
            r = await acme.post("/v1/blocked-phones", {"phone": phone})
            assert r.status_code == 422, phone
        assert await session.scalar(select(BlockedPhone)) is None

    async def test_malformed_json_answers_422(self, client: httpx.AsyncClient, acme: Org) -> None:
        headers = {**acme.auth("admin"), "Content-Type": "application/json"}
        r = await client.post("/v1/blocked-phones", content=b'{"phone": +47}', headers=headers)
        assert r.status_code == 422

    async def test_needs_administrator_or_assignment_setup(
        self, acme: Org, session: AsyncSession
    ) -> None:
        for role in ("agent", "reporter"):
            r = await acme.post("/v1/blocked-phones", {"phone": PHONE}, role=role)
            assert r.status_code == 403, role
        assert await session.scalar(select(BlockedPhone)) is None


class TestUnblockPhone:
    async def test_unblocking_brings_the_customer_back(
        self, acme: Org, session: AsyncSession, redis: Redis
    ) -> None:
        assignment, customers = await queued(session, redis, acme, [{"phone_1": PHONE}])
        await acme.post("/v1/blocked-phones", {"phone": PHONE})
        assert isinstance(await claim(redis, assignment), Empty)
        r = await acme.delete("/v1/blocked-phones/%2B4722334455", role="setup")
        assert r.status_code == 200
        assert r.json()["customers_affected"] == 1
        got = await claim(redis, assignment)
        assert isinstance(got, Claimed)
        assert got.customer_id == customers[0].id

    async def test_accepts_any_notation_of_the_number(self, acme: Org) -> None:
        await acme.post("/v1/blocked-phones", {"phone": PHONE})
        r = await acme.delete("/v1/blocked-phones/22 33 44 55")
        assert r.status_code == 200
        assert r.json()["phone"] == PHONE

    async def test_a_number_not_blocked_answers_404(self, acme: Org) -> None:
        r = await acme.delete("/v1/blocked-phones/+4722334455")
        assert r.status_code == 404

    async def test_another_tenants_number_answers_404_and_stays_blocked(
        self, acme: Org, globex: Org, session: AsyncSession, redis: Redis
    ) -> None:
        theirs, _ = await queued(session, redis, globex, [{"phone_1": PHONE}])
        await globex.post("/v1/blocked-phones", {"phone": PHONE})
        r = await acme.delete(f"/v1/blocked-phones/{PHONE}")
        assert r.status_code == 404
        assert (await globex.get("/v1/blocked-phones")).json()["items"][0]["phone"] == PHONE
        assert isinstance(await claim(redis, theirs), Empty)

    async def test_an_invalid_number_answers_422(self, acme: Org) -> None:
        r = await acme.delete("/v1/blocked-phones/abc")
        assert r.status_code == 422

    async def test_needs_administrator_or_assignment_setup(self, acme: Org) -> None:
        await acme.post("/v1/blocked-phones", {"phone": PHONE})
        r = await acme.delete(f"/v1/blocked-phones/{PHONE}", role="agent")
        assert r.status_code == 403


class TestListBlockedPhones:
    async def test_lists_only_the_callers_tenant_in_pages(self, acme: Org, globex: Org) -> None:
        for phone in ("+4722334401", "+4722334402", "+4722334403"):
            await acme.post("/v1/blocked-phones", {"phone": phone})
        await globex.post("/v1/blocked-phones", {"phone": "+4722334404"})
        first = await acme.get("/v1/blocked-phones", role="setup", limit=2)
        assert first.status_code == 200
        assert [b["phone"] for b in first.json()["items"]] == ["+4722334401", "+4722334402"]
        rest = await acme.get("/v1/blocked-phones", limit=2, cursor=first.json()["next"])
        assert [b["phone"] for b in rest.json()["items"]] == ["+4722334403"]
        assert rest.json()["next"] is None

    async def test_a_limit_out_of_range_answers_422(self, acme: Org) -> None:
        r = await acme.get("/v1/blocked-phones", limit=0)
        assert r.status_code == 422

    async def test_without_a_token_answers_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/blocked-phones")
        assert r.status_code == 401


class TestWhoAndUntilWhen:
    async def test_an_entry_records_who_blocked_it_and_until_when(self, acme: Org) -> None:
        body = {"phone": PHONE, "reason": "asked", "expires_at": "2999-01-01T00:00:00Z"}
        r = await acme.post("/v1/blocked-phones", body, role="setup")
        assert r.status_code == 201
        assert (r.json()["blocked_by"], r.json()["expires_at"]) == (
            acme.users["setup"].id,
            "2999-01-01T00:00:00Z",
        )
        listed = (await acme.get("/v1/blocked-phones")).json()["items"]
        assert listed[0]["blocked_by"] == acme.users["setup"].id

    async def test_an_expiry_in_the_past_answers_422(
        self, acme: Org, session: AsyncSession
    ) -> None:
        body = {"phone": PHONE, "expires_at": "2020-01-01T00:00:00Z"}
        r = await acme.post("/v1/blocked-phones", body)
        assert (r.status_code, r.json()["code"]) == (422, "expiry_in_past")
        assert await session.scalar(select(BlockedPhone)) is None
