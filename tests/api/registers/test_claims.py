"""Registers, the blocklist and consent at claim time and in placement (rule 34), on real
PostgreSQL and Redis: a barred customer is never served, and the reason is counted."""

from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.worker.jobs.blocklist import lift_expired_blocks
from services.worker.jobs.registers import import_register
from shared.infra.clock import utc_now
from shared.models import BlockedPhone, RegisterImport
from tests.api.registers.conftest import Desk, add_numbers
from tests.api.world import World

P1, P2 = "+4791234567", "+4791234568"


def bars_counted(reason: str) -> float:
    return REGISTRY.get_sample_value("nextcall_contact_bars_total", {"reason": reason}) or 0.0


async def served(world: World, agent: int = 0) -> int | None:
    """The customer /next hands the agent, or None for an empty answer."""
    answer = (await world.next(agent)).json()
    return answer["customer"]["id"] if answer["status"] == "claimed" else None


class TestRegisters:
    async def test_a_number_registered_while_queued_is_never_served_after_the_commit(
        self, desk: Desk, world: World
    ) -> None:
        first, second = await world.customers([{"phone_1": P1}, {"phone_1": P2}])
        register = await desk.register([])
        before = bars_counted("register")
        # The extract's commit, with nothing re-placed yet: the queue still holds `first`.
        await add_numbers(world.session, register, [P1])
        assert await served(world, 0) == second.id
        assert await served(world, 1) is None
        assert bars_counted("register") == before + 1
        empty = (await world.next(2)).json()
        assert empty["reasons"]["blocked"] == 1
        assert first.id != second.id

    async def test_the_import_job_replaces_the_numbers_and_rebuilds_the_queue(
        self,
        desk: Desk,
        world: World,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        (customer,) = await world.customers([{"phone_1": P1}])
        register = await desk.register([P2])
        job = RegisterImport(
            tenant_id=world.tenant.id,
            register_id=register.id,
            user_id=world.agents[0][0].id,
            extract_date=utc_now().date(),
            total_rows=4,
            payload=b"telefon\n91 23 45 67\n12\n+47 912 34 567\n",
        )
        world.session.add(job)
        await world.session.commit()
        done = await import_register(job.id, sessionmaker=sessionmaker, redis=world.redis)
        assert done is not None
        assert (done.status, done.processed_rows, done.accepted_rows, done.rejected_rows) == (
            "done",
            3,
            1,
            1,
        )
        assert done.errors[0]["line"] == 3
        depth = await AssignmentQueue(world.redis, world.assignment.id).depth()
        assert (depth["free"], depth["blocked"]) == (0, 1)
        await world.session.refresh(register)
        assert register.numbers == 1  # P2 left with the old extract
        assert await served(world) is None
        assert customer.phone_1 == P1

    async def test_a_stale_register_stops_dialling_with_the_reason(
        self, desk: Desk, world: World
    ) -> None:
        await world.customers([{"phone_1": P1}])
        await desk.register([], extract=utc_now().date() - timedelta(days=40))
        before = bars_counted("stale_register")
        empty = (await world.next()).json()
        assert empty["status"] == "empty"
        assert "40 days old" in empty["stopped"]
        assert "31 days allowed" in empty["stopped"]
        assert bars_counted("stale_register") == before + 1

    async def test_a_register_without_an_extract_stops_dialling(
        self, desk: Desk, world: World, app: FastAPI
    ) -> None:
        await world.customers([{"phone_1": P1}])
        r = await world.client.post("/v1/registers", json={"name": "Bloctel"}, headers=desk.admin)
        assert r.status_code == 201
        assert r.json()["stale"] == "register 'Bloctel' has no extract yet: import one"
        assert "no extract yet" in (await world.next()).json()["stopped"]

    async def test_existing_customers_are_exempt_where_the_assignment_says_so(
        self, desk: Desk, world: World
    ) -> None:
        world.assignment.register_exempt_field = "customer_since"
        await world.session.commit()
        existing, _ = await world.customers(
            [
                {"phone_1": P1, "custom": {"customer_since": "2019-04-01"}},
                {"phone_1": P2},
            ]
        )
        await desk.register([P1, P2])
        assert await served(world, 0) == existing.id
        assert await served(world, 1) is None

    async def test_a_customer_with_another_free_number_is_served(
        self, desk: Desk, world: World
    ) -> None:
        (customer,) = await world.customers([{"phone_1": P1, "phone_2": P2}])
        await desk.register([P1])
        assert await served(world) == customer.id


class TestBlocklist:
    async def test_the_blocklist_bars_an_exempt_customer_too(
        self, desk: Desk, world: World
    ) -> None:
        world.assignment.register_exempt_field = "customer_since"
        await world.session.commit()
        await world.customers([{"phone_1": P1, "custom": {"customer_since": "2019-04-01"}}])
        before = bars_counted("blocklist")
        world.session.add(BlockedPhone(tenant_id=world.tenant.id, phone=P1))
        await world.session.commit()
        assert await served(world) is None
        assert bars_counted("blocklist") == before + 1

    async def test_the_worker_lifts_an_expired_block_and_the_customer_returns(
        self, world: World, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        until = utc_now() + timedelta(hours=1)
        world.session.add(BlockedPhone(tenant_id=world.tenant.id, phone=P1, expires_at=until))
        await world.session.commit()
        await world.customers([{"phone_1": P1}])
        queue = AssignmentQueue(world.redis, world.assignment.id)
        assert (await queue.depth())["blocked"] == 1
        kept = await lift_expired_blocks(sessionmaker=sessionmaker, redis=world.redis)
        assert kept == 0
        lifted = await lift_expired_blocks(
            sessionmaker=sessionmaker, redis=world.redis, now=until + timedelta(seconds=1)
        )
        assert lifted == 1
        assert ((await queue.depth())["free"], (await queue.depth())["blocked"]) == (1, 0)

    async def test_an_expired_block_bars_no_one(self, world: World) -> None:
        (customer,) = await world.customers([{"phone_1": P1}])
        world.session.add(
            BlockedPhone(
                tenant_id=world.tenant.id, phone=P1, expires_at=utc_now() - timedelta(minutes=1)
            )
        )
        await world.session.commit()
        assert await served(world) == customer.id


class TestManualSelect:
    async def test_a_barred_customer_cannot_be_selected(self, desk: Desk, world: World) -> None:
        (customer,) = await world.customers([{"phone_1": P1}])
        await desk.register([P1])
        r = await world.post(f"/v1/customers/{customer.id}/select")
        assert (r.status_code, r.json()["code"]) == (409, "contact_barred")
        assert "register" in r.json()["detail"]
