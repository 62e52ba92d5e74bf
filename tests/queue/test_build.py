"""QueueBuild and the rebuild's fast placement: the same queue as placing one by one."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.queue import AssignmentQueue, Placement
from services.queue.engine import BUILD_CHUNK, QueueBuild
from services.queue.placement import PlainFacts, plain_entries
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


class TestPlainEntries:
    @given(facts=st.lists(plain_facts, max_size=20), stop=st.booleans())
    def test_equal_the_general_placement(self, facts: list[PlainFacts], stop: bool) -> None:
        general = [
            place_of(
                Src(
                    customer_id=cid,
                    import_order=order,
                    segment_id=segment,
                    time_zone=tz,
                    over_attempt_limit=over,
                    stop_at_limit=stop,
                    cooldown_until_ms=cooldown,
                )
            ).entry(cid)
            for cid, order, segment, tz, over, cooldown in facts
        ]
        assert plain_entries(facts, stop_at_limit=stop, now_ms=NOW) == general


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

        assert await build.swap() == len(placed)

        assert await built.snapshot() == await one_by_one.snapshot()
        assert await built.placement_of(1) == placed[0][1]
        assert not [k async for k in redis.scan_iter(match="*build:*")]

    async def test_an_error_reply_raises_and_the_client_goes_on(self, redis: Redis) -> None:
        queue = AssignmentQueue(redis, 3)
        build = QueueBuild(queue)
        await redis.set(queue.key("build:free:0|UTC"), "not a sorted set")
        entries = [p.entry(c) for c, p in [free(1), free(2)]]

        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await build.add_entries(entries)

        # Every reply was read: the next command on the pooled connection gets its own.
        assert await redis.hget(queue.key("build:home"), "2") == entries[1][1]
        assert await redis.ping()
