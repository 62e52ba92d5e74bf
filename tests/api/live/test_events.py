"""Server-sent events: the user's stream, the assignment's stream, resuming, limits, access."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import update

from services.api.app import create_app
from services.api.resources import Resources
from services.queue import streams
from services.worker.scheduler import Scheduler
from shared.infra.settings import Settings
from shared.models import Membership, Permission
from tests.api.live.sse import EventStream
from tests.api.world import World
from tests.factories import create_assignment, create_tenant, create_user, place_all

# Personal follow-ups a day ahead, on a virtual clock the scheduler is ticked at.
DAY = timedelta(days=1)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def _personal_followups(world: World, owner: int, *times: datetime) -> list[int]:
    """Customers in a progressive state with a personal follow-up of `owner` at each time."""
    customers = await world.customers([{} for _ in times])
    for customer, at in zip(customers, times, strict=True):
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == customer.id)
            .values(
                state="interested",
                followup_kind="personal",
                followup_at=at,
                followup_owner_id=owner,
            )
        )
    await world.session.commit()
    await place_all(world.session, world.redis, world.assignment)
    return [c.id for c in customers]


def _mine(app: FastAPI, world: World, agent: int = 0, **kw: Any) -> EventStream:
    headers = world.auth(world.agents[agent][1]) | kw.pop("headers", {})
    return EventStream(app, "/v1/me/events", headers=headers, **kw)


def _assignments(app: FastAPI, token: str, assignment_id: int) -> EventStream:
    return EventStream(
        app,
        f"/v1/assignments/{assignment_id}/events",
        headers={"Authorization": f"Bearer {token}"},
    )


@asynccontextmanager
async def _app(settings: Settings, **changes: Any) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update=changes))
    async with LifespanManager(application):
        yield application


class TestMyEvents:
    async def test_a_due_personal_follow_up_after_a_worker_tick(
        self, world: World, app: FastAPI, scheduler: Scheduler
    ) -> None:
        due = datetime.now(UTC) + DAY
        (customer,) = await _personal_followups(world, world.agents[0][0].id, due)

        async with _mine(app, world) as stream:
            assert stream.status == 200
            assert stream.response_headers["content-type"].startswith("text/event-stream")
            await scheduler.tick(now=_ms(due) + 10, interval_ms=1000)
            event = await stream.next_event()

        assert event.event == "followup_due"
        assert event.id is not None
        data = event.json()
        assert (data["assignment_id"], data["customer_id"]) == (world.assignment.id, customer)
        in_ms = due.replace(microsecond=due.microsecond // 1000 * 1000)
        assert datetime.fromisoformat(data["due_at"]) == in_ms

    async def test_reconnecting_with_last_event_id_delivers_what_was_missed(
        self, world: World, app: FastAPI, scheduler: Scheduler
    ) -> None:
        first = datetime.now(UTC) + DAY
        second, third = first + timedelta(seconds=10), first + timedelta(seconds=20)
        ids = await _personal_followups(world, world.agents[0][0].id, first, second, third)

        async with _mine(app, world) as stream:
            await scheduler.tick(now=_ms(first) + 10, interval_ms=1000)
            seen = await stream.next_event()
        # Away: two follow-ups come due meanwhile.
        await scheduler.tick(now=_ms(second) + 10)
        await scheduler.tick(now=_ms(third) + 10)
        assert seen.id is not None
        async with _mine(app, world, headers={"Last-Event-ID": seen.id}) as again:
            missed = [await again.next_event(), await again.next_event()]

        assert seen.json()["customer_id"] == ids[0]
        assert [e.json()["customer_id"] for e in missed] == ids[1:]
        assert [e.event for e in missed] == ["followup_due", "followup_due"]

    async def test_last_event_id_in_the_query_for_clients_without_headers(
        self, world: World, app: FastAPI, scheduler: Scheduler
    ) -> None:
        first = datetime.now(UTC) + DAY
        second = first + timedelta(seconds=10)
        ids = await _personal_followups(world, world.agents[0][0].id, first, second)
        await scheduler.tick(now=_ms(first) + 10, interval_ms=1000)
        await scheduler.tick(now=_ms(second) + 10)
        key = streams.user_stream(world.agents[0][0].id)
        entries: Any = await world.redis.xrange(key)
        oldest = entries[0][0]

        async with _mine(app, world, query={"last_event_id": str(oldest)}) as stream:
            event = await stream.next_event()

        assert event.json()["customer_id"] == ids[1]

    async def test_without_last_event_id_only_what_comes_next(
        self, world: World, app: FastAPI, scheduler: Scheduler
    ) -> None:
        first = datetime.now(UTC) + DAY
        second = first + timedelta(seconds=10)
        ids = await _personal_followups(world, world.agents[0][0].id, first, second)
        await scheduler.tick(now=_ms(first) + 10, interval_ms=1000)

        async with _mine(app, world) as stream:
            await stream.next_comment()  # connected: "now" is fixed
            await scheduler.tick(now=_ms(second) + 10)
            event = await stream.next_event()

        assert event.json()["customer_id"] == ids[1]

    async def test_only_the_owner_hears_of_a_follow_up(
        self, world: World, app: FastAPI, scheduler: Scheduler
    ) -> None:
        due = datetime.now(UTC) + DAY
        await _personal_followups(world, world.agents[0][0].id, due)
        await scheduler.tick(now=_ms(due) + 10, interval_ms=1000)

        mine = await world.redis.xlen(streams.user_stream(world.agents[0][0].id))
        theirs = await world.redis.xlen(streams.user_stream(world.agents[1][0].id))

        assert (mine, theirs) == (1, 0)

    async def test_customers_moved_in_reach_who_works_the_assignment(
        self, world: World, app: FastAPI
    ) -> None:
        await world.customers([{}])
        await world.next(agent=0)  # works here now

        async with _mine(app, world, agent=0) as worker, _mine(app, world, agent=1) as idle:
            told = await streams.announce_moved_in(world.redis, world.assignment.id, [41, 42])
            event = await worker.next_event()
            await idle.next_comment()

        assert told == 1
        assert event.event == "customer_moved_in"
        assert event.json() == {
            "assignment_id": world.assignment.id,
            "count": 2,
            "customer_ids": [41, 42],
        }
        assert await world.redis.xlen(streams.user_stream(world.agents[1][0].id)) == 0

    async def test_keep_alive_comments_while_nothing_happens(
        self, world: World, settings: Settings
    ) -> None:
        async with (
            _app(settings, sse_keepalive_s=0.1) as application,
            _mine(application, world) as stream,
        ):
            assert await stream.next_comment() == "connected"
            assert await stream.next_comment(within_s=2) == "keep-alive"

    async def test_a_malformed_last_event_id_is_422(self, world: World) -> None:
        r = await world.client.get(
            "/v1/me/events",
            headers=world.auth(world.agents[0][1]) | {"Last-Event-ID": "yesterday"},
        )
        assert r.status_code == 422

    async def test_no_token_is_401(self, world: World) -> None:
        assert (await world.client.get("/v1/me/events")).status_code == 401


class TestAssignmentEvents:
    async def test_stats_with_depth_leases_and_outcomes(
        self, world: World, app: FastAPI, scheduler: Scheduler
    ) -> None:
        await world.customers([{}, {}, {}])
        card = (await world.next(agent=0)).json()
        r = await world.post(
            f"/v1/customers/{card['customer']['id']}/outcomes",
            agent=0,
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            code="sale",
        )
        assert r.status_code == 200, r.text
        await world.next(agent=1)  # holds one

        async with _assignments(app, world.supervisor[1], world.assignment.id) as stream:
            assert stream.status == 200
            tick = await scheduler.tick()
            event = await stream.next_event()

        assert tick.stats == (world.assignment.id,)
        assert event.event == "stats"
        stats = event.json()
        assert stats["assignment_id"] == world.assignment.id
        assert stats["depth"]["free"] == 1
        assert stats["waiting"] == 1
        assert stats["leases_held"] == 1
        assert stats["outcomes_last_minute"] == 1
        assert stats["attempts_last_minute"] == 0

    async def test_customers_moved_in_are_announced_to_supervisors(
        self, world: World, app: FastAPI
    ) -> None:
        async with _assignments(app, world.supervisor[1], world.assignment.id) as stream:
            await streams.announce_moved_in(world.redis, world.assignment.id, [7])
            event = await stream.next_event()

        assert (event.event, event.json()["customer_ids"]) == ("customer_moved_in", [7])

    async def test_reporting_is_enough(self, world: World, app: FastAPI) -> None:
        _, token = await create_user(
            world.session, world.tenant, name="Analyst", permissions=[Permission.reporting.value]
        )
        async with _assignments(app, token, world.assignment.id) as stream:
            assert stream.status == 200

    async def test_another_tenants_assignment_is_404(self, world: World) -> None:
        other = await create_tenant(world.session, name="Other")
        theirs = await create_assignment(world.session, other, world.flow)
        r = await world.client.get(
            f"/v1/assignments/{theirs.id}/events", headers=world.auth(world.supervisor[1])
        )
        assert r.status_code == 404

    async def test_an_agent_without_a_supervisor_permission_is_403(self, world: World) -> None:
        r = await world.client.get(
            f"/v1/assignments/{world.assignment.id}/events",
            headers=world.auth(world.agents[0][1]),
        )
        assert r.status_code == 403


class TestLimits:
    async def test_streams_over_the_limit_are_refused_until_one_closes(
        self, world: World, settings: Settings
    ) -> None:
        async with _app(settings, sse_max_streams=1) as application:
            resources: Resources = application.state.resources
            async with _mine(application, world) as first:
                async with _mine(application, world, agent=1) as second:
                    refused = await second.text()
                assert first.status == 200
                assert second.status == 503
                assert "too many" in refused
            assert resources.streams.open == 0
            async with _mine(application, world, agent=1) as third:
                assert third.status == 200
