"""What the worker and the API read of a queue through its methods: what came due, the time
zones customers wait in, a sweep of a backlog, a copy."""

import pytest
from redis.asyncio import Redis

from services.queue import AssignmentQueue, Claimed, ComingDue, DueFollowUp, ExpiringLease
from tests.queue.support import NOW, free, personal_fu, shared_fu

LEASE_MS = 60_000
ANN, OWNER = 101, 7


@pytest.fixture
def queue(redis: Redis) -> AssignmentQueue:
    return AssignmentQueue(redis, 1)


async def hold(queue: AssignmentQueue, user: int) -> Claimed:
    claimed = await queue.claim(user_id=user, lease_seconds=LEASE_MS // 1000, now=NOW)
    assert isinstance(claimed, Claimed)
    return claimed


class TestComingDue:
    async def test_followups_due_in_the_interval_and_leases_nearing_their_end(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1), shared_fu(2, NOW + 1000), personal_fu(3, NOW + 500, OWNER)])
        held = await hold(queue, ANN)
        due = await queue.coming_due(
            since=NOW, now=NOW + 1000, lease_warning_ms=LEASE_MS - 500, personal_limit=100
        )
        assert due == ComingDue(
            shared_due=True,
            personal=(DueFollowUp(3, OWNER, NOW + 500),),
            expiring=(ExpiringLease(1, ANN, held.lease_token, NOW + LEASE_MS),),
        )

    async def test_nothing_before_or_after_the_interval(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1), shared_fu(2, NOW + 1000), personal_fu(3, NOW + 500, OWNER)])
        await hold(queue, ANN)
        later = await queue.coming_due(
            since=NOW + 1000, now=NOW + 2000, lease_warning_ms=0, personal_limit=100
        )
        assert later == ComingDue(shared_due=False, personal=(), expiring=())

    async def test_at_most_the_limit_per_owner(self, queue: AssignmentQueue) -> None:
        await queue.place([personal_fu(c, NOW + c, OWNER) for c in (1, 2, 3)])
        due = await queue.coming_due(since=NOW, now=NOW + 10, lease_warning_ms=0, personal_limit=2)
        assert [f.customer_id for f in due.personal] == [1, 2]

    async def test_an_empty_queue(self, queue: AssignmentQueue) -> None:
        due = await queue.coming_due(since=0, now=NOW, lease_warning_ms=0, personal_limit=100)
        assert due == ComingDue(shared_due=False, personal=(), expiring=())


class TestTimeZones:
    async def test_every_zone_customers_wait_in_once(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1, tz="Europe/Oslo"), free(2), free(3, segment=4)])
        assert await queue.time_zones() == ("Europe/Oslo", "UTC")

    async def test_none_in_an_empty_queue(self, queue: AssignmentQueue) -> None:
        assert await queue.time_zones() == ()


class TestSweepBacklog:
    async def test_sweeps_again_while_batches_come_back_full(self, queue: AssignmentQueue) -> None:
        await queue.place([free(c) for c in range(1, 6)])
        for user in range(ANN, ANN + 5):
            await hold(queue, user)
        after = NOW + LEASE_MS + 1
        assert await queue.sweep_backlog(now=after, rounds=2, batch=2) == (4, 0)
        assert await queue.sweep_backlog(now=after, rounds=5, batch=2) == (1, 0)
        assert await queue.holders() == {}


class TestCopyTo:
    async def test_the_target_becomes_the_same_queue(self, redis: Redis) -> None:
        source, target = AssignmentQueue(redis, 1), AssignmentQueue(redis, 2)
        await source.place([free(1), free(2), shared_fu(3, NOW)])
        await target.place([free(9)])
        held = await hold(source, ANN)
        await source.copy_to(target)
        assert await target.snapshot() == await source.snapshot()
        assert await target.holders() == {held.customer_id: ANN}
