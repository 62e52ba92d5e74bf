"""Which agents are at work, where, and what they are doing now; from Redis only.

Agents have no sign-in of their own: an agent is *signed in* while it asked for a customer in
the last hour (the queue's record of recent claims, which live notifications use too) or holds
one. It is *holding* a customer while it has a lease, *waiting* when it asked within
WAITING_S (a long poll of /next claims again at least every 5 s, so a waiting agent is always
that fresh), and *idle* otherwise.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

from services.queue import AssignmentQueue, streams

# Asked for a customer this recently and holds none: waiting (twice the long poll's re-check).
WAITING_S = 10
# "off": worked today, but neither holds a customer nor asked for one in the last hour.
State = Literal["holding", "waiting", "idle", "off"]


@dataclass(frozen=True, slots=True)
class AgentNow:
    user_id: int
    assignment_id: int
    state: State
    # The customer held, when holding.
    customer_id: int | None
    # Since when: the agent's last request for a customer in the assignment (for a holder,
    # when it was handed the customer by /next; a lease records no start of its own).
    since_ms: int | None


@dataclass(frozen=True, slots=True)
class _Seen:
    assignment_id: int
    at_ms: int


async def agents_now(redis: Redis, assignment_ids: Sequence[int], *, now_ms: int) -> list[AgentNow]:
    last_claim: dict[int, _Seen] = {}
    claims_in: dict[tuple[int, int], int] = {}
    holding: dict[int, tuple[int, int]] = {}
    for a in assignment_ids:
        for user, at in (await streams.recent_claims(redis, a, at_ms=now_ms)).items():
            claims_in[(user, a)] = at
            if user not in last_claim or at > last_claim[user].at_ms:
                last_claim[user] = _Seen(a, at)
        for customer, user in (await AssignmentQueue(redis, a).holders()).items():
            holding[user] = (a, customer)
    agents: list[AgentNow] = []
    for user in sorted(last_claim.keys() | holding.keys()):
        if user in holding:
            a, customer = holding[user]
            since = claims_in.get((user, a))
            agents.append(AgentNow(user, a, "holding", customer, since))
            continue
        seen = last_claim[user]
        state: State = "waiting" if now_ms - seen.at_ms <= WAITING_S * 1000 else "idle"
        agents.append(AgentNow(user, seen.assignment_id, state, None, seen.at_ms))
    return agents
