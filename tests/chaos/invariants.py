"""What must hold after any fault (DESIGN 5): no customer's outcome counted for two agents,
and every free customer in PostgreSQL in its queue in Redis exactly once."""

from collections import Counter

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.queue.placement import Placement
from shared.models import Event, EventKind, Membership
from tests.chaos.agents import Floor

# The queue's structures a waiting or held customer is a member of (services/queue/keys.py):
# free and cooling buckets, shared and personal follow-ups, at the attempt limit, blocked,
# and the leases.
_PLACES = ("free:", "cool:", "sfu:", "pfu:", "limit:", "blocked:")


async def assert_served_once(
    floor: Floor, sessionmaker: async_sessionmaker[AsyncSession], assignment_id: int
) -> int:
    """Each customer's outcome counted once at most, as the agents saw it and as PostgreSQL
    holds it; how many counted."""
    written = Counter(floor.written())
    assert not [c for c, n in written.items() if n > 1], "an outcome counted twice"
    async with sessionmaker() as session:
        per_customer = dict(
            (
                await session.execute(
                    select(Event.customer_id, func.count())
                    .where(Event.kind == EventKind.outcome, Event.assignment_id == assignment_id)
                    .group_by(Event.customer_id)
                )
            ).all()
        )
    assert not [c for c, n in per_customer.items() if n > 1], "two outcomes for one customer"
    # Every write an agent saw succeed is in PostgreSQL (a write whose answer was lost with
    # its API process may be there too).
    assert set(written) <= set(per_customer)
    return len(per_customer)


async def assert_free_in_redis_once(
    redis: Redis, sessionmaker: async_sessionmaker[AsyncSession], assignment_id: int
) -> int:
    """The free customers in PostgreSQL, each in exactly one place of the queue (held ones in
    the leases) and nothing else there; how many."""
    snapshot = await AssignmentQueue(redis, assignment_id).snapshot()
    home = snapshot.get("home", {})
    assert isinstance(home, dict)
    # Which customer each member of each structure stands for (a free bucket's members are
    # ranks), from where each customer's home says it waits.
    owner_of: dict[tuple[str, str], int] = {}
    for cid, encoded in home.items():
        _, _, _, key, member, _ = Placement.decode(encoded).entry(int(cid))
        owner_of[(key, member)] = int(cid)
    placed: Counter[int] = Counter()
    for name, content in snapshot.items():
        if name == "lease" or name.startswith(_PLACES):
            assert isinstance(content, list)
            for m in content:
                member = str(m[0] if isinstance(m, list | tuple) else m)
                key = "" if name == "lease" else name
                cid = int(member) if name == "lease" else owner_of.get((key, member))
                assert cid is not None, f"a member of {name} no customer's home names"
                placed[cid] += 1
    async with sessionmaker() as session:
        free = set(
            await session.scalars(
                select(Membership.customer_id).where(
                    Membership.assignment_id == assignment_id, Membership.state == "free"
                )
            )
        )
    assert not [c for c, n in placed.items() if n > 1], "a customer in two places of its queue"
    assert set(placed) == free, (len(set(placed) - free), len(free - set(placed)))
    return len(free)
