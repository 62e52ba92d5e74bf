"""QueueBuild and the rebuild's fast placement: the same queue as placing one by one."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.queue import AssignmentQueue, Placement
from services.queue.build import BUILD_CHUNK, QueueBuild
from services.queue.placement import Entry, FreeByBucket, PlainFacts, plain_places, plain_rank
from tests.queue.support import NOW, Src, cooling, free, personal_fu, place_of, shared_fu

ANN = 101


def mixed(count: int) -> list[tuple[int, Placement]]:
    """Every kind of place, several segments, owners and time zones (one not ASCII)."""
    kinds = [
        lambda c: free(c, c % 7, segment=c % 3 or None, tz="Europe/Zürich" if c % 2 else "UTC"),
        lambda c: cooling(c, NOW + c),
        lambda c: shared_fu(c, NOW + c, segment=c % 2 or None),
        lambda c: personal_fu(c, NOW + c, owner=c % 4 + 1),
        lambda c: (c, place_of(Src(customer_id=c, over_attempt_limit=True, stop_at_limit=True))),
        lambda c: (c, place_of(Src(customer_id=c, blocked=True, segment_id=5))),
        lambda c: (c, place_of(Src(customer_id=c, state_kind="final"))),
    ]
    return [kinds[cid % len(kinds)](cid) for cid in range(1, count + 1)]


plain_facts = st.tuples(
    st.integers(1, 2**40),
    st.integers(1, 2**40),
    st.one_of(st.none(), st.integers(0, 50)),
    st.sampled_from(["UTC", "Europe/Oslo", "Amérique/Ici"]),
    st.booleans(),
    st.one_of(st.none(), st.integers(NOW - 5, NOW + 5)),
)


def as_entries(free: FreeByBucket, others: list[Entry]) -> list[Entry]:
    """plain_places' answer as one entry per customer, in customer order."""
    entries = list(others)
    for bucket, pairs in free.items():
        seg = bucket.partition("|")[0]
        entries.extend((c, f"free|{bucket}|{r}||", seg, f"free:{bucket}", r, 0) for c, r in pairs)
    return sorted(entries, key=lambda e: int(e[0]))


def plain_src(facts: PlainFacts, stop: bool) -> Src:
    cid, order, segment, tz, over, cooldown = facts
    return Src(
        customer_id=cid,
        import_order=order,
        segment_id=segment,
        time_zone=tz,
        over_attempt_limit=over,
        stop_at_limit=stop,
        cooldown_until_ms=cooldown,
    )


class TestPlainPlaces:
    @given(facts=st.lists(plain_facts, max_size=30, unique_by=lambda f: f[0]), stop=st.booleans())
    def test_equal_the_general_placement(self, facts: list[PlainFacts], stop: bool) -> None:
        general = sorted(
            (place_of(plain_src(f, stop)).entry(f[0]) for f in facts), key=lambda e: int(e[0])
        )
        free, others = plain_places(facts, stop_at_limit=stop, now_ms=NOW)
        assert as_entries(free, others) == general

    @given(order=st.integers(0, 2**63 - 1), cid=st.integers(0, 2**63 - 1), over=st.booleans())
    def test_plain_rank_is_flag_then_two_ids_in_hex(self, order: int, cid: int, over: bool) -> None:
        expected = f"{'1' if over else '0'}{order:016x}{cid:016x}"
        assert plain_rank(over_limit=over, import_order=order, customer_id=cid) == expected

    def test_segment_none_and_zero_share_a_bucket(self) -> None:
        facts: list[PlainFacts] = [(1, 1, None, "UTC", False, None), (2, 2, 0, "UTC", False, None)]
        free, others = plain_places(facts, stop_at_limit=True, now_ms=NOW)
        assert others == []
        assert list(free) == ["0|UTC"]
        assert [c for c, _ in free["0|UTC"]] == ["1", "2"]


class TestQueueBuild:
    async def test_equals_the_queue_placed_one_by_one(self, redis: Redis) -> None:
        placed = mixed(BUILD_CHUNK + 30)  # some structures cross a command's chunk
        one_by_one = AssignmentQueue(redis, 1)
        await one_by_one.place(placed)
        built = AssignmentQueue(redis, 2)
        build = QueueBuild(built)
        await build.start()
        half = len(placed) // 2
        assert await build.add_entries([p.entry(c) for c, p in placed[:half]]) == half
        assert await build.add_entries([p.entry(c) for c, p in placed[half:]]) == len(placed) - half
        assert await build.add_entries([]) == 0
        # The rebuild's common case, free customers by bucket, beside entries of the same one.
        plain: list[PlainFacts] = [
            (cid, cid, cid % 2 or None, "Europe/Zürich", cid % 3 == 0, None)
            for cid in range(len(placed) + 1, len(placed) + 41)
        ]
        free, others = plain_places(plain, stop_at_limit=False, now_ms=NOW)
        assert await build.add_entries(others, free) == 40
        await one_by_one.place_sources([plain_src(f, False) for f in plain], now=NOW)

        assert await build.swap() == len(placed) + 40

        assert await built.snapshot() == await one_by_one.snapshot()
        assert await built.placement_of(1) == placed[0][1]
        assert not [k async for k in redis.scan_iter(match="*build:*")]

    async def test_a_queue_of_parked_customers_only_is_swapped_in(self, redis: Redis) -> None:
        """Every customer written (a final state): nothing to wait in, no bucket to name."""
        queue = AssignmentQueue(redis, 4)
        await queue.place([free(1)])
        build = QueueBuild(queue)
        await build.start()
        parked = [(cid, place_of(Src(customer_id=cid, state_kind="final"))) for cid in (1, 2)]
        assert await build.add_entries([p.entry(c) for c, p in parked]) == 2

        assert await build.swap() == 2

        assert await queue.depth() == {k: 0 for k in await queue.depth()}
        assert await queue.placement_of(1) == parked[0][1]

    async def test_an_error_reply_raises_and_the_client_goes_on(self, redis: Redis) -> None:
        queue = AssignmentQueue(redis, 3)
        build = QueueBuild(queue)
        await redis.set(queue._key("build:free:0|UTC"), "not a sorted set")
        entries = [p.entry(c) for c, p in [free(1), free(2)]]

        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await build.add_entries(entries)

        # Every reply was read: the next command on the pooled connection gets its own.
        assert await redis.hget(queue._key("build:home"), "2") == entries[1][1]
        assert await redis.ping()
