"""The tick feeds the live streams: followup_due, lease_expiring and stats, once each even
with several worker replicas; the queue notes who works an assignment."""

import json
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import Claimed, streams
from services.queue.streams import Activity
from services.worker.scheduler import Scheduler
from shared.infra.settings import Settings
from tests.worker.conftest import NOW_MS, Campaign, ahead

LEASE_S = 300
WARNING_MS = 30_000


@pytest.fixture
def replicas(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis) -> list[Scheduler]:
    """Two worker replicas ticking against the same Redis."""
    return [Scheduler(sessionmaker=sessionmaker, redis=redis, refresh_s=0.0) for _ in range(2)]


async def _entries(redis: Redis, key: str) -> list[tuple[str, dict[str, Any]]]:
    found: Any = await redis.xrange(key)
    return [(fields["type"], json.loads(fields["data"])) for _id, fields in found]


class TestFollowupDue:
    async def test_the_owner_hears_once_whatever_the_replicas(
        self, campaign: Campaign, replicas: list[Scheduler], redis: Redis
    ) -> None:
        (customer,) = await campaign.customers(1)
        owner = campaign.agent.id
        await campaign.set_membership(
            customer,
            state="interested",
            followup_kind="personal",
            followup_at=ahead(seconds=2),
            followup_owner_id=owner,
        )

        ticks = [await r.tick(now=NOW_MS + 2000, interval_ms=250) for r in replicas]
        later = await replicas[0].tick(now=NOW_MS + 2250)

        assert sum(t.announced for t in ticks) == 1
        assert later.announced == 0
        assert [t.woken for t in ticks] == [(campaign.assignment.id,)] * 2  # wake-ups are cheap
        assert await _entries(redis, streams.user_stream(owner)) == [
            (
                "followup_due",
                {
                    "assignment_id": campaign.assignment.id,
                    "customer_id": customer.id,
                    "due_at": "2030-01-15T12:00:02+00:00",
                },
            )
        ]

    async def test_shared_follow_ups_go_to_no_ones_stream(
        self, campaign: Campaign, replicas: list[Scheduler], redis: Redis
    ) -> None:
        (customer,) = await campaign.customers(1)
        due = ahead(seconds=2)
        await campaign.set_membership(customer, followup_kind="shared", followup_at=due)

        tick = await replicas[0].tick(now=NOW_MS + 2000, interval_ms=250)

        assert (tick.woken, tick.announced) == ((campaign.assignment.id,), 0)
        assert await redis.keys("nc:stream:*") == []


class TestLeaseExpiring:
    async def test_the_holder_hears_once_before_the_end(
        self, campaign: Campaign, replicas: list[Scheduler], redis: Redis
    ) -> None:
        (customer,) = await campaign.customers(1)
        claimed = await campaign.queue.claim(
            user_id=campaign.agent.id, lease_seconds=LEASE_S, now=NOW_MS
        )
        assert isinstance(claimed, Claimed)
        expiry = NOW_MS + LEASE_S * 1000
        first, second = replicas

        early = await first.tick(now=expiry - WARNING_MS - 100, interval_ms=250)
        warned = await first.tick(now=expiry - WARNING_MS + 50)
        twin = await second.tick(now=expiry - WARNING_MS + 50, interval_ms=250)
        after = await first.tick(now=expiry - WARNING_MS + 300)

        assert [t.announced for t in (early, warned, twin, after)] == [0, 1, 0, 0]
        assert await _entries(redis, streams.user_stream(campaign.agent.id)) == [
            (
                "lease_expiring",
                {
                    "assignment_id": campaign.assignment.id,
                    "customer_id": customer.id,
                    "expires_at": "2030-01-15T12:05:00+00:00",
                },
            )
        ]

    async def test_a_renewed_lease_warns_again_near_its_new_end(
        self, campaign: Campaign, replicas: list[Scheduler]
    ) -> None:
        await campaign.customers(1)
        claimed = await campaign.queue.claim(
            user_id=campaign.agent.id, lease_seconds=LEASE_S, now=NOW_MS
        )
        assert isinstance(claimed, Claimed)
        scheduler = replicas[0]
        expiry = NOW_MS + LEASE_S * 1000
        warned = await scheduler.tick(now=expiry - WARNING_MS, interval_ms=250)
        renewed_at = expiry - 10_000
        await campaign.queue.renew(
            claimed.customer_id,
            user_id=campaign.agent.id,
            lease_token=claimed.lease_token,
            lease_seconds=LEASE_S,
            now=renewed_at,
        )
        await scheduler.tick(now=renewed_at)

        again = await scheduler.tick(now=renewed_at + LEASE_S * 1000 - WARNING_MS)

        assert (warned.announced, again.announced) == (1, 1)


class TestStats:
    async def test_written_for_watched_assignments_once_per_interval(
        self, campaign: Campaign, replicas: list[Scheduler], redis: Redis
    ) -> None:
        await campaign.customers(3)
        await campaign.queue.claim(user_id=campaign.agent.id, lease_seconds=LEASE_S, now=NOW_MS)
        async with redis.pipeline(transaction=False) as pipe:
            for _ in range(4):
                streams.count_activity(
                    pipe, campaign.assignment.id, Activity.outcomes, at_ms=NOW_MS
                )
            await pipe.execute()
        first, second = replicas

        unwatched = await first.tick(now=NOW_MS)
        await redis.set(streams.watched_key(campaign.assignment.id), "1")
        watched = [await r.tick(now=NOW_MS + 2000) for r in replicas]
        same_interval = await first.tick(now=NOW_MS + 2500)
        next_interval = await second.tick(now=NOW_MS + 4000)

        assert unwatched.stats == ()
        assert [len(t.stats) for t in watched] in ([1, 0], [0, 1])
        assert same_interval.stats == ()
        assert next_interval.stats == (campaign.assignment.id,)
        entries = await _entries(redis, streams.assignment_stream(campaign.assignment.id))
        assert [kind for kind, _ in entries] == ["stats", "stats"]
        stats = entries[0][1]
        assert stats["depth"] == {
            "free": 2,
            "cool": 0,
            "sfu": 0,
            "pfu": 0,
            "limit": 0,
            "blocked": 0,
        }
        assert (stats["waiting"], stats["leases_held"]) == (2, 1)
        assert (stats["outcomes_last_minute"], stats["attempts_last_minute"]) == (4, 0)
        assert stats["at"] == "2030-01-15T12:00:02+00:00"


class TestActivity:
    async def test_the_last_minute_weighs_the_previous_one_by_what_is_left_of_it(
        self, redis: Redis
    ) -> None:
        minute = NOW_MS - NOW_MS % 60_000
        async with redis.pipeline(transaction=False) as pipe:
            for _ in range(8):
                streams.count_activity(pipe, 1, Activity.outcomes, at_ms=minute - 1)
            streams.count_activity(pipe, 1, Activity.outcomes, at_ms=minute + 1)
            await pipe.execute()

        half_way = await streams.activity_last_minute(
            redis, 1, Activity.outcomes, at_ms=minute + 30_000
        )
        two_minutes_on = await streams.activity_last_minute(
            redis, 1, Activity.outcomes, at_ms=minute + 120_000
        )

        assert half_way == 1 + 4
        assert two_minutes_on == 0
        assert await redis.pttl(streams.activity_key(1, Activity.outcomes, minute // 60_000)) > 0


class TestRecentWorkers:
    async def test_a_claim_notes_the_agent_and_forgets_the_idle(
        self, campaign: Campaign, redis: Redis
    ) -> None:
        await campaign.customers(1)
        key = streams.workers_key(campaign.assignment.id)
        await redis.zadd(key, {"999": 1})  # idle for decades

        await campaign.queue.claim_tracked(user_id=campaign.agent.id, lease_seconds=LEASE_S)

        assert key == campaign.queue._key("workers")  # both sides name the same key
        assert await redis.zrange(key, 0, -1) == [str(campaign.agent.id)]
        assert await streams.recent_workers(
            redis, campaign.assignment.id, at_ms=streams.now_ms()
        ) == [campaign.agent.id]

    async def test_recent_claims_say_when_each_agent_last_asked(
        self, campaign: Campaign, redis: Redis
    ) -> None:
        await campaign.customers(1)
        before = streams.now_ms()
        await campaign.queue.claim_tracked(user_id=campaign.agent.id, lease_seconds=LEASE_S)
        after = streams.now_ms()
        an_hour_on = after + streams.RECENT_WORKER_MS + 1

        found = await streams.recent_claims(redis, campaign.assignment.id, at_ms=after)
        assert list(found) == [campaign.agent.id]
        assert before <= found[campaign.agent.id] <= after
        assert await streams.recent_claims(redis, campaign.assignment.id, at_ms=an_hour_on) == {}

    async def test_moved_in_customers_are_announced_to_recent_workers(
        self, campaign: Campaign, redis: Redis
    ) -> None:
        await campaign.queue.claim_tracked(user_id=campaign.agent.id, lease_seconds=LEASE_S)
        ids = list(range(1, 151))

        told = await streams.announce_moved_in(redis, campaign.assignment.id, ids, window=100)
        nothing = await streams.announce_moved_in(redis, campaign.assignment.id, [])

        assert (told, nothing) == (1, 0)
        ((kind, data),) = await _entries(redis, streams.user_stream(campaign.agent.id))
        assert kind == "customer_moved_in"
        assert data["count"] == 150
        assert data["customer_ids"] == ids[: streams.MAX_IDS_PER_EVENT]
        supervisors = await _entries(redis, streams.assignment_stream(campaign.assignment.id))
        assert [k for k, _ in supervisors] == ["customer_moved_in"]
        assert await redis.pttl(streams.user_stream(campaign.agent.id)) > 0

    async def test_streams_keep_about_the_window(self, redis: Redis) -> None:
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(1000):
                streams.add(pipe, "nc:stream:{u:1}", streams.EventType.stats, {"i": i}, window=100)
            await pipe.execute()

        length = await redis.xlen("nc:stream:{u:1}")

        assert 100 <= length < 1000  # MAXLEN ~ trims whole nodes: about the window


class TestSettings:
    def test_the_default_window_is_the_settings_default(self) -> None:
        assert Settings().stream_window == streams.DEFAULT_WINDOW
