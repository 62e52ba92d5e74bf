"""AssignmentQueue against a real Redis: one class per operation, one test per scenario.

Time is virtual: every call gets `now=` in ms, nothing sleeps.
"""

import itertools
from typing import Any

import pytest
from redis.asyncio import Redis

from services.queue import (
    AssignmentQueue,
    Claimed,
    Empty,
    HeldByOther,
    Holder,
    NotHolder,
    NotInQueue,
    Placement,
)
from services.queue.engine import PLACE_CHUNK
from tests.queue.support import NOW, Src, cooling, free, personal_fu, place_of, shared_fu

LEASE = 60  # seconds
LEASE_MS = LEASE * 1000
_fresh_agents = itertools.count(1000)
ANN, BOB, CAT = 101, 102, 103  # agents


@pytest.fixture
def queue(redis: Redis) -> AssignmentQueue:
    return AssignmentQueue(redis, 1)


async def claim(q: AssignmentQueue, user: int, *, now: int = NOW, **kw: Any) -> Claimed:
    result = await q.claim(user_id=user, lease_seconds=LEASE, now=now, **kw)
    assert isinstance(result, Claimed), result
    return result


async def empty(q: AssignmentQueue, user: int, *, now: int = NOW, **kw: Any) -> Empty:
    result = await q.claim(user_id=user, lease_seconds=LEASE, now=now, **kw)
    assert isinstance(result, Empty), result
    return result


async def drain(q: AssignmentQueue, *, now: int = NOW, **kw: Any) -> list[tuple[int, str]]:
    """Claim until empty, a new agent each time: (customer, source) in serving order."""
    served: list[tuple[int, str]] = []
    for _ in range(100):
        user = next(_fresh_agents)
        result = await q.claim(user_id=user, lease_seconds=LEASE, now=now, **kw)
        if isinstance(result, Empty):
            return served
        served.append((result.customer_id, result.source))
    raise AssertionError("the queue never ran empty")


def nothing(**counts: Any) -> Empty:
    """An Empty with every count zero but the ones given."""
    base: dict[str, Any] = {
        "held": 0,
        "cooldown": 0,
        "outside_hours": 0,
        "blocked": 0,
        "at_attempt_limit": 0,
        "waiting_followups": 0,
        "next_eligible_ms": None,
    }
    return Empty(**(base | counts))


class TestClaim:
    async def test_free_customers_come_in_rank_order_across_segments_and_zones(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place(
            [
                free(1, 5),
                free(2, -1, segment=3),
                free(3, 2.5, tz="Europe/Oslo"),
                free(4, 0, segment=3, tz="America/New_York"),
                free(5, -0.5),
            ]
        )
        assert [cid for cid, _ in await drain(queue)] == [2, 5, 4, 3, 1]

    async def test_callers_due_personal_followup_first_then_shared_then_free(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place(
            [
                free(1, -100),
                shared_fu(2, NOW - 60_000),
                personal_fu(3, NOW - 1, owner=ANN),
                personal_fu(4, NOW - 90_000, owner=BOB),
            ]
        )
        first = await claim(queue, ANN)
        assert (first.customer_id, first.source) == (3, "personal_followup")
        second = await claim(queue, CAT)
        assert (second.customer_id, second.source) == (2, "shared_followup")
        third = await claim(queue, 104)
        assert (third.customer_id, third.source) == (1, "free")

    async def test_personal_followups_of_the_caller_earliest_first(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place(
            [
                personal_fu(1, NOW - 10, owner=ANN),
                personal_fu(2, NOW - 5000, owner=ANN),
                personal_fu(3, NOW - 300, owner=ANN),
            ]
        )
        served = []
        for _ in range(3):
            c = await claim(queue, ANN)
            served.append(c.customer_id)
            await queue.release(c.customer_id, user_id=ANN, lease_token=c.lease_token)
            await queue.remove([c.customer_id])
        assert served == [2, 3, 1]

    async def test_another_agents_personal_followup_is_not_served(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([personal_fu(1, NOW - 1, owner=BOB)])
        assert await empty(queue, ANN) == nothing()
        assert (await claim(queue, BOB)).customer_id == 1

    async def test_personal_followups_are_not_served_when_personal_first_is_off(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([personal_fu(1, NOW - 1, owner=ANN), free(2)])
        assert (await claim(queue, ANN, personal_first=False)).customer_id == 2
        assert await drain(queue, personal_first=False) == []

    async def test_shared_followups_earliest_first_across_segments(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place(
            [
                shared_fu(1, NOW - 100, segment=1),
                shared_fu(2, NOW - 5000, segment=2),
                shared_fu(3, NOW - 3000),
                free(4, -1000),
                shared_fu(5, NOW - 4000, segment=1),
            ]
        )
        assert await drain(queue) == [
            (2, "shared_followup"),
            (5, "shared_followup"),
            (3, "shared_followup"),
            (1, "shared_followup"),
            (4, "free"),
        ]

    async def test_followup_not_yet_due_is_not_served_until_its_time(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([shared_fu(1, NOW + 1), personal_fu(2, NOW + 1, owner=ANN), free(3)])
        assert (await claim(queue, ANN)).customer_id == 3
        assert await empty(queue, BOB) == nothing(
            held=1, waiting_followups=1, next_eligible_ms=NOW + 1
        )
        assert (await claim(queue, BOB, now=NOW + 1)).customer_id == 1
        ann_again = await claim(queue, ANN, now=NOW + 1)
        assert (ann_again.customer_id, ann_again.source) == (3, "current")
        await queue.release(3, user_id=ANN, lease_token=ann_again.lease_token)
        mine = await claim(queue, ANN, now=NOW + 1)
        assert (mine.customer_id, mine.source) == (2, "personal_followup")

    async def test_segment_filter_serves_only_that_segment(self, queue: AssignmentQueue) -> None:
        await queue.place(
            [
                free(1, 0, segment=1),
                free(2, -5, segment=2),
                free(3, -9),
                shared_fu(4, NOW - 1, segment=2),
                personal_fu(5, NOW - 1, owner=ANN, segment=2),
                free(6, 1, segment=1),
            ]
        )
        assert await drain(queue, segment="1") == [(1, "free"), (6, "free")]
        assert await drain(queue, segment="0") == [(3, "free")]
        assert (await claim(queue, ANN, segment="2")).customer_id == 5
        assert (await claim(queue, BOB, segment="2")).customer_id == 4
        assert (await claim(queue, CAT, segment="2")).customer_id == 2

    async def test_personal_followup_of_another_segment_is_not_served(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([personal_fu(1, NOW - 1, owner=ANN, segment=2), free(2, segment=1)])
        assert (await claim(queue, ANN, segment="1")).customer_id == 2

    async def test_open_time_zones_filter_free_customers(self, queue: AssignmentQueue) -> None:
        await queue.place(
            [
                free(1, 0, tz="Europe/Oslo"),
                free(2, 1, tz="UTC"),
                free(3, -1, tz="America/New_York"),
                free(4, 2, tz="America/New_York"),
            ]
        )
        open_now = ["UTC", "Europe/Oslo"]
        assert await drain(queue, open_time_zones=open_now) == [(1, "free"), (2, "free")]
        assert await empty(queue, ANN, open_time_zones=open_now) == nothing(
            held=2, outside_hours=2, next_eligible_ms=NOW + LEASE_MS
        )
        assert (await claim(queue, BOB, open_time_zones=None)).customer_id == 3

    async def test_no_open_time_zone_serves_no_free_customer(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1, tz="UTC"), free(2, tz="Asia/Tokyo"), shared_fu(3, NOW)])
        assert (await claim(queue, ANN, open_time_zones=[])).customer_id == 3
        assert await empty(queue, BOB, open_time_zones=[]) == nothing(
            held=1, outside_hours=2, next_eligible_ms=NOW + LEASE_MS
        )

    async def test_claim_while_holding_returns_current_with_the_same_token(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1), free(2)])
        first = await claim(queue, ANN)
        again = await claim(queue, ANN, now=NOW + 10_000)
        assert again == Claimed(1, "current", first.lease_token, NOW + 10_000 + LEASE_MS)
        assert await queue.holder(1) == Holder(ANN, first.lease_token, NOW + 10_000 + LEASE_MS)
        assert (await claim(queue, BOB)).customer_id == 2

    async def test_held_customer_is_invisible_to_others(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        await claim(queue, ANN)
        assert await empty(queue, BOB) == nothing(held=1, next_eligible_ms=NOW + LEASE_MS)

    async def test_large_customer_ids_come_back_intact(self, queue: AssignmentQueue) -> None:
        big = 123_456_789_012_345
        await queue.place([free(big)])
        assert (await claim(queue, ANN)).customer_id == big


class TestEmpty:
    async def test_none_left(self, queue: AssignmentQueue) -> None:
        assert await empty(queue, ANN) == nothing()

    async def test_all_held_next_when_the_first_lease_ends(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1), free(2)])
        await claim(queue, ANN, now=NOW + 5000)
        await claim(queue, BOB, now=NOW)
        assert await empty(queue, CAT, now=NOW + 6000) == nothing(
            held=2, next_eligible_ms=NOW + LEASE_MS
        )

    async def test_cooldown_next_when_the_first_cooldown_ends(self, queue: AssignmentQueue) -> None:
        await queue.place([cooling(1, NOW + 9000), cooling(2, NOW + 5000)])
        assert await empty(queue, ANN) == nothing(cooldown=2, next_eligible_ms=NOW + 5000)

    async def test_blocked_and_at_attempt_limit(self, queue: AssignmentQueue) -> None:
        await queue.place(
            [
                (1, place_of(Src(customer_id=1, blocked=True))),
                (2, place_of(Src(customer_id=2, over_attempt_limit=True, stop_at_limit=True))),
                (3, place_of(Src(customer_id=3, over_attempt_limit=True, stop_at_limit=True))),
                (4, place_of(Src(customer_id=4, state_kind="final"))),
            ]
        )
        assert await empty(queue, ANN) == nothing(blocked=1, at_attempt_limit=2)

    async def test_waiting_followups_shared_and_own_personal(self, queue: AssignmentQueue) -> None:
        await queue.place(
            [
                shared_fu(1, NOW + 7000),
                personal_fu(2, NOW + 3000, owner=ANN),
                personal_fu(3, NOW + 1000, owner=BOB),
            ]
        )
        assert await empty(queue, ANN) == nothing(waiting_followups=2, next_eligible_ms=NOW + 3000)
        assert await empty(queue, BOB) == nothing(waiting_followups=2, next_eligible_ms=NOW + 1000)

    async def test_next_eligible_is_the_earliest_of_every_reason(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1), cooling(2, NOW + 40_000), shared_fu(3, NOW + 50_000)])
        await claim(queue, ANN)
        assert await empty(queue, BOB, now=NOW + 1) == nothing(
            held=1, cooldown=1, waiting_followups=1, next_eligible_ms=NOW + 40_000
        )
        assert (await claim(queue, BOB, now=NOW + 40_000)).customer_id == 2
        assert await empty(queue, CAT, now=NOW + 40_001) == nothing(
            held=2, waiting_followups=1, next_eligible_ms=NOW + 50_000
        )

    async def test_counts_follow_the_segment_filter(self, queue: AssignmentQueue) -> None:
        await queue.place(
            [
                cooling(1, NOW + 1000),
                (2, place_of(Src(customer_id=2, segment_id=5, blocked=True))),
                shared_fu(3, NOW + 2000, segment=5),
            ]
        )
        assert await empty(queue, ANN, segment="7") == nothing()
        assert await empty(queue, ANN, segment="5") == nothing(
            blocked=1, waiting_followups=1, next_eligible_ms=NOW + 2000
        )

    async def test_personal_followups_that_cannot_be_served_are_not_waiting(
        self, queue: AssignmentQueue
    ) -> None:
        # A due personal follow-up of another segment, or with personal_first off, is not
        # served by claim: it must not count, nor make the next time one in the past.
        await queue.place([personal_fu(1, NOW - 1000, owner=ANN, segment=2)])
        assert await empty(queue, ANN, segment="3") == nothing()
        assert await empty(queue, ANN, personal_first=False) == nothing()
        assert await empty(queue, ANN, segment="2", now=NOW - 2000) == nothing(
            waiting_followups=1, next_eligible_ms=NOW - 1000
        )


class TestSelect:
    async def test_select_makes_it_the_current_customer(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1, 0), free(2, 1)])
        chosen = await queue.select(2, user_id=ANN, lease_seconds=LEASE, now=NOW)
        assert chosen.customer_id == 2
        assert chosen.source == "selected"
        assert chosen.lease_expires_ms == NOW + LEASE_MS
        assert await queue.holder(2) == Holder(ANN, chosen.lease_token, NOW + LEASE_MS)
        current = await claim(queue, ANN)
        assert (current.customer_id, current.source) == (2, "current")
        assert await drain(queue) == [(1, "free")]

    async def test_select_a_customer_held_by_another_names_the_holder(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1)])
        await claim(queue, ANN)
        with pytest.raises(HeldByOther) as raised:
            await queue.select(1, user_id=BOB, lease_seconds=LEASE, now=NOW)
        assert raised.value.holder_user_id == ANN

    async def test_select_a_customer_not_in_the_queue(self, queue: AssignmentQueue) -> None:
        with pytest.raises(NotInQueue):
            await queue.select(9, user_id=ANN, lease_seconds=LEASE, now=NOW)

    async def test_select_own_customer_again_renews_with_the_same_token(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1)])
        first = await queue.select(1, user_id=ANN, lease_seconds=LEASE, now=NOW)
        again = await queue.select(1, user_id=ANN, lease_seconds=LEASE, now=NOW + 500)
        assert again == Claimed(1, "selected", first.lease_token, NOW + 500 + LEASE_MS)

    async def test_select_returns_the_previous_customer_home(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1, 0), free(2, 1)])
        before = await queue.snapshot()
        await claim(queue, ANN)
        await queue.select(2, user_id=ANN, lease_seconds=LEASE, now=NOW)
        assert await queue.holder(1) is None
        assert (await claim(queue, BOB)).customer_id == 1
        await queue.release_agent(ANN)
        await queue.release_agent(BOB)
        assert await queue.snapshot() == before

    async def test_select_a_customer_whose_lease_has_run_out(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        await claim(queue, ANN)
        chosen = await queue.select(1, user_id=BOB, lease_seconds=LEASE, now=NOW + LEASE_MS)
        assert await queue.holder(1) == Holder(BOB, chosen.lease_token, NOW + 2 * LEASE_MS)
        assert await empty(queue, ANN, now=NOW + LEASE_MS) == nothing(
            held=1, next_eligible_ms=NOW + 2 * LEASE_MS
        )

    async def test_select_a_parked_customer(self, queue: AssignmentQueue) -> None:
        await queue.place([(1, place_of(Src(customer_id=1, state_kind="progressive")))])
        chosen = await queue.select(1, user_id=ANN, lease_seconds=LEASE, now=NOW)
        assert chosen.customer_id == 1
        assert await empty(queue, BOB) == nothing(held=1, next_eligible_ms=NOW + LEASE_MS)


class TestRenew:
    async def test_holder_renews_the_lease(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        c = await claim(queue, ANN)
        expiry = await queue.renew(
            1, user_id=ANN, lease_token=c.lease_token, lease_seconds=LEASE, now=NOW + 30_000
        )
        assert expiry == NOW + 30_000 + LEASE_MS
        assert await queue.holder(1) == Holder(ANN, c.lease_token, expiry)

    async def test_renew_by_a_non_holder_raises_not_holder(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        c = await claim(queue, ANN)
        with pytest.raises(NotHolder) as raised:
            await queue.renew(1, user_id=BOB, lease_token=c.lease_token, lease_seconds=LEASE)
        assert raised.value.holder_user_id == ANN

    async def test_renew_with_a_wrong_token_raises_not_holder(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        await claim(queue, ANN)
        with pytest.raises(NotHolder):
            await queue.renew(1, user_id=ANN, lease_token="nope", lease_seconds=LEASE, now=NOW)

    async def test_an_expired_lease_cannot_be_renewed(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        c = await claim(queue, ANN)
        token = c.lease_token
        with pytest.raises(NotHolder):
            await queue.renew(
                1, user_id=ANN, lease_token=token, lease_seconds=LEASE, now=NOW + LEASE_MS
            )
        renewed = await queue.renew(
            1, user_id=ANN, lease_token=token, lease_seconds=LEASE, now=NOW + LEASE_MS - 1
        )
        assert renewed == NOW + LEASE_MS - 1 + LEASE_MS

    async def test_renew_of_a_customer_nobody_holds(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        with pytest.raises(NotHolder) as raised:
            await queue.renew(1, user_id=ANN, lease_token="x", lease_seconds=LEASE, now=NOW)
        assert raised.value.holder_user_id is None


class TestRelease:
    async def test_release_returns_a_free_customer_to_exactly_its_place(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1, 3), free(2, 1, segment=4), free(3, 2, tz="Europe/Oslo")])
        before = await queue.snapshot()
        place_before = await queue.placement_of(2)
        c = await claim(queue, ANN)
        assert c.customer_id == 2
        assert await queue.snapshot() != before
        assert await queue.release(2, user_id=ANN, lease_token=c.lease_token) == ANN
        assert await queue.placement_of(2) == place_before
        assert await queue.snapshot() == before
        assert [cid for cid, _ in await drain(queue)] == [2, 3, 1]

    async def test_release_returns_followups_to_their_place(self, queue: AssignmentQueue) -> None:
        await queue.place([shared_fu(1, NOW - 10), personal_fu(2, NOW - 20, owner=ANN)])
        before = await queue.snapshot()
        mine = await claim(queue, ANN)
        shared = await claim(queue, BOB)
        assert (mine.customer_id, shared.customer_id) == (2, 1)
        await queue.release(2, user_id=ANN, lease_token=mine.lease_token)
        await queue.release(1, user_id=BOB, lease_token=shared.lease_token)
        assert await queue.snapshot() == before

    async def test_release_by_a_non_holder_raises_not_holder(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        c = await claim(queue, ANN)
        with pytest.raises(NotHolder) as raised:
            await queue.release(1, user_id=BOB, lease_token=c.lease_token)
        assert raised.value.holder_user_id == ANN
        with pytest.raises(NotHolder):
            await queue.release(1, user_id=ANN, lease_token="stale")
        assert await queue.holder(1) == Holder(ANN, c.lease_token, NOW + LEASE_MS)

    async def test_release_of_a_customer_nobody_holds(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1)])
        with pytest.raises(NotHolder) as raised:
            await queue.release(1, user_id=ANN, lease_token="x")
        assert raised.value.holder_user_id is None

    async def test_force_release_of_another_users_customer(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1), free(2, 5)])
        before = await queue.snapshot()
        c = await claim(queue, ANN)
        assert await queue.release(1, user_id=CAT, force=True) == ANN
        assert await queue.holder(1) is None
        assert await queue.snapshot() == before
        with pytest.raises(NotHolder):
            await queue.renew(1, user_id=ANN, lease_token=c.lease_token, lease_seconds=LEASE)
        assert (await claim(queue, ANN)).source == "free"  # no longer "current"

    async def test_release_agent_releases_what_the_agent_holds(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1)])
        assert await queue.release_agent(ANN) is None
        await claim(queue, ANN)
        assert await queue.release_agent(ANN) == 1
        assert await queue.holder(1) is None


class TestExpiry:
    async def test_expired_lease_is_returned_by_the_next_claims_sweep(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1, 0), free(2, 1)])
        first = await claim(queue, ANN)
        assert (await claim(queue, BOB, now=NOW + LEASE_MS - 1)).customer_id == 2
        later = await claim(queue, CAT, now=NOW + LEASE_MS)
        assert later.customer_id == 1
        with pytest.raises(NotHolder) as raised:
            await queue.renew(1, user_id=ANN, lease_token=first.lease_token, lease_seconds=LEASE)
        assert raised.value.holder_user_id == CAT

    async def test_sweep_returns_expired_leases_home(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1), shared_fu(2, NOW), personal_fu(3, NOW, owner=CAT)])
        before = await queue.snapshot()
        await claim(queue, ANN)
        await claim(queue, BOB, now=NOW + 1000)
        await claim(queue, CAT, now=NOW + 2000)
        assert await queue.sweep(now=NOW + LEASE_MS - 1) == (0, 0)
        assert await queue.sweep(now=NOW + LEASE_MS + 1000) == (2, 0)
        assert await queue.holder(3) is not None
        assert await queue.sweep(now=NOW + LEASE_MS + 2000) == (1, 0)
        assert await queue.snapshot() == before

    async def test_sweep_handles_at_most_a_batch(self, queue: AssignmentQueue) -> None:
        await queue.place([free(cid) for cid in range(1, 6)])
        for user in range(5):
            await claim(queue, 200 + user)
        assert await queue.sweep(now=NOW + LEASE_MS, batch=3) == (3, 0)
        assert await queue.sweep(now=NOW + LEASE_MS, batch=3) == (2, 0)

    async def test_cooldown_ends_and_the_customer_is_free_again_in_rank_order(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1, 5), cooling(2, NOW + 5000, score=0), free(3, 10)])
        cool = await queue.placement_of(2)
        assert cool is not None
        assert (await claim(queue, ANN)).customer_id == 1
        assert (await claim(queue, BOB, now=NOW + 5000)).customer_id == 2
        assert await queue.placement_of(2) == Placement("free", "0", "UTC", rank=cool.rank)
        assert (await claim(queue, CAT, now=NOW + 5000)).customer_id == 3

    async def test_sweep_ends_due_cooldowns(self, queue: AssignmentQueue) -> None:
        await queue.place([cooling(1, NOW + 5000), cooling(2, NOW + 6000)])
        assert await queue.sweep(now=NOW + 4999) == (0, 0)
        assert await queue.sweep(now=NOW + 5000) == (0, 1)
        assert await queue.depth() == {
            "free": 1,
            "cool": 1,
            "sfu": 0,
            "pfu": 0,
            "limit": 0,
            "blocked": 0,
            "held": 0,
        }

    async def test_a_held_customer_whose_cooldown_ended_is_free_when_returned(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([cooling(1, NOW + 1000)])
        cool = await queue.placement_of(1)
        assert cool is not None
        c = await queue.select(1, user_id=ANN, lease_seconds=LEASE, now=NOW)
        assert (await claim(queue, ANN, now=NOW + LEASE_MS - 1)).lease_token == c.lease_token
        later = NOW + 2 * LEASE_MS
        assert (await claim(queue, BOB, now=later)).customer_id == 1
        assert await queue.placement_of(1) == Placement("free", rank=cool.rank)


class TestSettle:
    async def test_holder_settles_to_a_new_home(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1, 0), free(2, 1)])
        c = await claim(queue, ANN)
        cid, cool = cooling(1, NOW + 30_000, score=0)
        await queue.settle(1, user_id=ANN, lease_token=c.lease_token, placement=cool)
        assert await queue.holder(1) is None
        assert await queue.placement_of(1) == cool
        assert (await claim(queue, ANN)).customer_id == 2  # ANN holds nothing any more
        assert (await claim(queue, BOB, now=NOW + 30_000)).customer_id == cid

    async def test_settle_while_another_holds_it_only_changes_the_home(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1)])
        stale = await claim(queue, ANN)
        fresh = await claim(queue, BOB, now=NOW + LEASE_MS)
        assert fresh.customer_id == 1
        _, followup = shared_fu(1, NOW + LEASE_MS + 5000)
        await queue.settle(1, user_id=ANN, lease_token=stale.lease_token, placement=followup)
        assert await queue.holder(1) == Holder(BOB, fresh.lease_token, NOW + 2 * LEASE_MS)
        assert await queue.placement_of(1) == followup
        assert (await queue.depth())["sfu"] == 0
        await queue.release(1, user_id=BOB, lease_token=fresh.lease_token)
        assert (await queue.depth())["sfu"] == 1
        assert (await claim(queue, CAT, now=NOW + LEASE_MS + 5000)).customer_id == 1

    async def test_settle_after_the_lease_was_returned_moves_it_home(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1)])
        stale = await claim(queue, ANN)
        await queue.sweep(now=NOW + LEASE_MS)
        parked = place_of(Src(customer_id=1, state_kind="final"))
        await queue.settle(1, user_id=ANN, lease_token=stale.lease_token, placement=parked)
        assert await queue.placement_of(1) == parked
        assert await empty(queue, BOB, now=NOW + LEASE_MS) == nothing()


class TestClaimTracked:
    async def test_claim_tracked_returns_the_previous_assignment(self, redis: Redis) -> None:
        one, two = AssignmentQueue(redis, 1), AssignmentQueue(redis, 2)
        await one.place([free(11)])
        await two.place([free(22)])
        result, previous = await one.claim_tracked(user_id=ANN, lease_seconds=LEASE)
        assert isinstance(result, Claimed)
        assert (result.customer_id, previous) == (11, None)
        result, previous = await two.claim_tracked(user_id=ANN, lease_seconds=LEASE)
        assert isinstance(result, Claimed)
        assert (result.customer_id, previous) == (22, 1)
        assert await one.release_agent(ANN) == 11
        result, previous = await two.claim_tracked(user_id=ANN, lease_seconds=LEASE)
        assert isinstance(result, Claimed)
        assert (result.customer_id, result.source, previous) == (22, "current", None)
        result, previous = await one.claim_tracked(user_id=ANN, lease_seconds=LEASE)
        assert isinstance(result, Claimed)
        assert (result.customer_id, previous) == (11, 2)


class TestPlace:
    async def test_place_of_a_held_customer_only_records_its_new_home(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1)])
        c = await claim(queue, ANN)
        _, followup = shared_fu(1, NOW + 1000)
        assert await queue.place([(1, followup)]) == 1
        assert await queue.holder(1) == Holder(ANN, c.lease_token, NOW + LEASE_MS)
        assert await queue.placement_of(1) == followup
        assert (await queue.depth())["sfu"] == 0
        await queue.release(1, user_id=ANN, lease_token=c.lease_token)
        assert (await queue.depth())["sfu"] == 1
        assert await empty(queue, BOB) == nothing(waiting_followups=1, next_eligible_ms=NOW + 1000)

    async def test_place_moves_a_customer_out_of_its_former_place(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1), personal_fu(2, NOW, owner=ANN)])
        await queue.place([shared_fu(1, NOW + 10), free(2, 3, segment=9)])
        depth = await queue.depth()
        assert (depth["free"], depth["sfu"], depth["pfu"]) == (1, 1, 0)
        assert await drain(queue, now=NOW + 10) == [(1, "shared_followup"), (2, "free")]

    async def test_place_in_bulk_crosses_chunks(self, queue: AssignmentQueue) -> None:
        count = 2 * PLACE_CHUNK + 7
        assert await queue.place(free(cid, -cid) for cid in range(1, count + 1)) == count
        assert (await queue.depth())["free"] == count
        assert (await claim(queue, ANN)).customer_id == count

    async def test_place_sources_computes_the_place(self, queue: AssignmentQueue) -> None:
        sources = [
            Src(customer_id=1, cooldown_until_ms=NOW + 1),
            Src(customer_id=2, followup_kind="shared", followup_due_ms=NOW),
        ]
        assert await queue.place_sources(sources, now=NOW) == 2
        assert await queue.placement_of(1) == place_of(sources[0])
        assert await queue.placement_of(2) == place_of(sources[1])

    async def test_rebuild_from_homes_equals_the_queue(self, queue: AssignmentQueue) -> None:
        await queue.place(
            [free(1), free(2, 1, tz="Asia/Tokyo"), cooling(3, NOW + 5), shared_fu(4, NOW + 9)]
        )
        await queue.place([personal_fu(5, NOW, owner=BOB), free(6, segment=2)])
        await claim(queue, ANN)
        await claim(queue, BOB)
        before = await queue.snapshot()
        homes = await queue.redis.hgetall(queue.home_key)
        await queue.clear(keep_leases=True)
        assert set(await queue.snapshot()) == {"lease", "holder", "agent"}
        await queue.place((int(cid), Placement.decode(str(raw))) for cid, raw in homes.items())
        assert await queue.snapshot() == before


class TestRemove:
    async def test_remove_takes_the_customer_out(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1), shared_fu(2, NOW), free(3)])
        await queue.remove([1, 2])
        assert await queue.placement_of(1) is None
        assert await queue.placement_of(2) is None
        assert await drain(queue) == [(3, "free")]
        with pytest.raises(NotInQueue):
            await queue.select(1, user_id=ANN, lease_seconds=LEASE, now=NOW)

    async def test_remove_of_a_held_customer_ends_its_lease(self, queue: AssignmentQueue) -> None:
        await queue.place([free(1), free(2, 1)])
        c = await claim(queue, ANN)
        await queue.remove([1])
        assert await queue.holder(1) is None
        with pytest.raises(NotHolder):
            await queue.renew(1, user_id=ANN, lease_token=c.lease_token, lease_seconds=LEASE)
        nxt = await claim(queue, ANN)
        assert (nxt.customer_id, nxt.source) == (2, "free")


class TestDepth:
    async def test_depth_counts_every_kind_of_place(self, queue: AssignmentQueue) -> None:
        await queue.place(
            [
                free(1),
                free(2, segment=3, tz="Europe/Oslo"),
                free(3),
                cooling(4, NOW + 1),
                shared_fu(5, NOW + 1),
                shared_fu(6, NOW + 1, segment=3),
                personal_fu(7, NOW + 1, owner=ANN),
                personal_fu(8, NOW + 1, owner=BOB),
                (9, place_of(Src(customer_id=9, over_attempt_limit=True, stop_at_limit=True))),
                (10, place_of(Src(customer_id=10, blocked=True, segment_id=3))),
                (11, place_of(Src(customer_id=11, state_kind="final"))),
            ]
        )
        await claim(queue, CAT)
        assert await queue.depth() == {
            "free": 2,
            "cool": 1,
            "sfu": 2,
            "pfu": 2,
            "limit": 1,
            "blocked": 1,
            "held": 1,
        }

    async def test_depth_of_an_empty_queue(self, queue: AssignmentQueue) -> None:
        assert set((await queue.depth()).values()) == {0}


class TestCallingHours:
    """Calling rules at claim time (decision 029): the caller says which zones are open now
    and when the closed ones open; follow-ups of a closed zone wait for it."""

    OSLO, PARIS = "Europe/Oslo@NO", "Europe/Paris@FR"
    OPENS = NOW + 3_600_000

    def followup(self, cid: int, due_ms: int, tz: str, **kw: Any) -> tuple[int, Placement]:
        return cid, place_of(Src(customer_id=cid, time_zone=tz, followup_due_ms=due_ms, **kw))

    async def test_a_due_shared_follow_up_of_a_closed_zone_waits_for_its_opening(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place(
            [
                self.followup(1, NOW - 5, self.OSLO, followup_kind="shared"),
                self.followup(2, NOW - 1, self.PARIS, followup_kind="shared"),
            ]
        )
        hours: dict[str, Any] = {
            "open_time_zones": [self.PARIS],
            "openings": {self.OSLO: self.OPENS},
            "hold_followups": True,
        }
        assert (await claim(queue, ANN, **hours)).customer_id == 2
        assert await empty(queue, BOB, **hours) == nothing(
            held=1, waiting_followups=1, next_eligible_ms=NOW + LEASE_MS
        )
        # At the opening both are served, earliest first: the returned lease's, then the held.
        served = await drain(queue, now=self.OPENS, open_time_zones=[self.OSLO, self.PARIS])
        assert served == [(2, "shared_followup"), (1, "shared_followup")]

    async def test_a_personal_follow_up_of_a_closed_zone_waits_too(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place(
            [
                self.followup(
                    1,
                    NOW - 5,
                    self.OSLO,
                    state_kind="progressive",
                    followup_kind="personal",
                    followup_owner=ANN,
                ),
                free(2, tz=self.PARIS),
            ]
        )
        hours: dict[str, Any] = {
            "open_time_zones": [self.PARIS],
            "openings": {self.OSLO: self.OPENS},
            "hold_followups": True,
        }
        first = await claim(queue, ANN, **hours)
        assert (first.customer_id, first.source) == (2, "free")
        await queue.release(2, user_id=ANN, lease_token=first.lease_token)
        personal = await claim(queue, ANN, now=self.OPENS, open_time_zones=[self.OSLO])
        assert (personal.customer_id, personal.source) == (1, "personal_followup")

    async def test_call_backs_allowed_to_break_the_rules_are_served_at_their_time(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([self.followup(1, NOW - 5, self.OSLO, followup_kind="shared")])
        served = await claim(
            queue, ANN, open_time_zones=[], openings={self.OSLO: self.OPENS}, hold_followups=False
        )
        assert (served.customer_id, served.source) == (1, "shared_followup")

    async def test_the_empty_answer_gives_the_next_opening_of_a_closed_zone(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([free(1, tz=self.OSLO), free(2, tz=self.PARIS)])
        found = await empty(
            queue,
            ANN,
            open_time_zones=[],
            openings={self.OSLO: self.OPENS, self.PARIS: self.OPENS + 1},
            hold_followups=True,
        )
        assert found == nothing(outside_hours=2, next_eligible_ms=self.OPENS)

    async def test_a_follow_ups_zone_is_known_to_the_caller(self, queue: AssignmentQueue) -> None:
        await queue.place([self.followup(1, NOW + 5, self.OSLO, followup_kind="shared")])
        assert await queue.time_zones() == (self.OSLO,)

    async def test_a_zone_the_caller_does_not_know_yet_is_asked_about_again_soon(
        self, queue: AssignmentQueue
    ) -> None:
        await queue.place([self.followup(1, NOW - 5, self.OSLO, followup_kind="shared")])
        found = await empty(queue, ANN, open_time_zones=[], openings={}, hold_followups=True)
        assert found == nothing(waiting_followups=1, next_eligible_ms=NOW + 60_000)
