"""AssignmentQueue.overdue(): follow-ups /next should have served, for the metrics."""

from redis.asyncio import Redis

from services.queue import AssignmentQueue, Empty, Placement, now_ms
from tests.queue.support import Src, place_of

MINUTE = 60_000


def _shared(cid: int, due_ms: int, *, segment: int | None = None) -> tuple[int, Placement]:
    src = Src(customer_id=cid, segment_id=segment, followup_kind="shared", followup_due_ms=due_ms)
    return cid, place_of(src, now=due_ms)


def _personal(cid: int, due_ms: int, owner: int) -> tuple[int, Placement]:
    src = Src(
        customer_id=cid,
        state_kind="progressive",
        followup_kind="personal",
        followup_due_ms=due_ms,
        followup_owner=owner,
    )
    return cid, place_of(src, now=due_ms)


class TestOverdue:
    async def test_counts_only_what_someone_working_could_have_taken(self, redis: Redis) -> None:
        queue = AssignmentQueue(redis, 1)
        # Agent 7 asks for work (nothing there yet): the queue notes it among its workers.
        asked, _ = await queue.claim_tracked(user_id=7, lease_seconds=60)
        assert isinstance(asked, Empty)
        now = now_ms()
        await queue.place(
            [
                _shared(1, now - 5 * MINUTE),
                _shared(2, now - 2 * MINUTE, segment=3),
                _shared(3, now - 10_000),  # due, not yet a minute late
                _personal(4, now - 3 * MINUTE, owner=7),  # its owner works
                _personal(5, now - 9 * MINUTE, owner=8),  # its owner does not
            ]
        )

        found = await queue.overdue(due_before=now - MINUTE, worked_since=now - 5 * MINUTE)

        assert found.working == 1
        assert found.by_kind == {
            "shared": (2, now - 5 * MINUTE),
            "personal": (1, now - 3 * MINUTE),
        }

    async def test_nothing_is_overdue_while_nobody_works(self, redis: Redis) -> None:
        queue = AssignmentQueue(redis, 1)
        now = now_ms()
        await queue.place([_shared(1, now - 5 * MINUTE)])

        found = await queue.overdue(due_before=now - MINUTE, worked_since=now - 5 * MINUTE)

        assert found.working == 0
        assert found.by_kind == {"shared": (0, 0), "personal": (0, 0)}
