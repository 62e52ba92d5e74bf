"""An assignment's dialer side in Redis (decision 035): reservations for dialers, the move of
an answered call's lease to its agent, dials in flight, a copy of its agents' states, and the
dial counters pacing reads.

Every key is under the assignment's hash tag, so one script or pipeline reaches all of them
and the queue's own keys (Redis Cluster: one slot).
"""

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.queue import keys
from services.queue.engine import AssignmentQueue, Claimed, Empty, _claim_result, now_ms
from services.queue.errors import NotHolder

# Reservations by expiry: the dials in flight (KEYS[8] of reserve.lua and handover.lua).
DIALING = "dialing"
# user -> "state|since_ms|version" of the agents working the assignment (seat.lua).
AGENTS = "agents"
# Dial counters per minute and per UTC day (hashes): what pacing needs of the recent past.
MINUTE = "dialstats:m:"
DAY = "dialstats:d:"
# The minute counters cover pacing's window (15 minutes) and the minute running now.
WINDOW_MINUTES = 15
MINUTE_KEEP_S = (WINDOW_MINUTES + 2) * 60
DAY_KEEP_S = 2 * 86400


@dataclass(frozen=True, slots=True)
class Seat:
    """An agent's state as the copy holds it."""

    state: str
    since_ms: int


@dataclass(frozen=True, slots=True)
class Floor:
    """What pacing reads of an assignment, in one round trip."""

    seats: dict[int, Seat]
    in_flight: int
    in_flight_expiries_ms: tuple[int, ...]  # when each dial in flight's reservation runs out
    window: dict[str, int]  # counters summed over the last WINDOW_MINUTES minutes
    day: dict[str, int]  # counters of the UTC day


def _day(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y%m%d")


class DialFloor:
    """The dialer's structures of one assignment, beside its queue."""

    def __init__(self, queue: AssignmentQueue) -> None:
        self.queue = queue
        self.redis = queue.redis

    def _key(self, name: str) -> str:
        return self.queue._key(name)

    async def reserve(
        self,
        *,
        dialer_id: int,
        count: int,
        lease_seconds: int,
        open_time_zones: Sequence[str] | None = None,
        openings: Mapping[str, int] | None = None,
        hold_followups: bool = False,
        now: int | None = None,
    ) -> list[Claimed] | Empty:
        """Up to `count` customers leased to the dialer, each by the claim /next makes (shared
        follow-ups due, then free customers; a dialer has no personal follow-ups)."""
        args = self.queue._claim_args(
            user_id=dialer_id,
            lease_seconds=lease_seconds,
            personal_first=False,
            open_time_zones=open_time_zones,
            openings=openings,
            hold_followups=hold_followups,
            now=now,
        )
        raw = await self.queue._run("reserve", *args, count, more_keys=(self._key(DIALING),))
        if raw[0] != "reserved":
            empty = _claim_result(raw)
            assert isinstance(empty, Empty)
            return empty
        return [
            Claimed(int(raw[i]), raw[i + 1], raw[i + 3], int(float(raw[i + 2])))
            for i in range(1, len(raw), 4)
        ]

    async def hand_over(
        self,
        customer_id: int,
        *,
        dialer_id: int,
        token: str,
        agent_id: int,
        lease_seconds: int,
        now: int | None = None,
    ) -> Claimed:
        """The dialer's lease on the customer becomes the agent's (a new token); raises
        NotHolder when the reservation is gone (expired, or already handed over)."""
        new_token = secrets.token_urlsafe(12)
        r = await self.queue._run(
            "handover",
            now_ms() if now is None else now,
            customer_id,
            dialer_id,
            token,
            agent_id,
            new_token,
            lease_seconds * 1000,
            more_keys=(self._key(DIALING),),
        )
        if r[0] != "ok":
            raise NotHolder(int(r[1]) if r[1] else None)
        return Claimed(customer_id, "dialer", new_token, int(float(r[1])))

    async def work_in(self, agent_id: int) -> int | None:
        """Record this as the assignment the agent works (as a claim does); the one it worked
        before, if another, where the caller releases what the agent still holds."""
        previous = await self.redis.getset(keys.agent(agent_id), str(self.queue.assignment_id))
        before = int(previous) if previous else None
        return None if before == self.queue.assignment_id else before

    def finished(self, pipe: Any, customer_id: int) -> None:
        """Queue the end of a reservation (its result was reported) on a pipeline."""
        pipe.zrem(self._key(DIALING), str(customer_id))

    def count(self, pipe: Any, counts: Mapping[str, int], *, at_ms: int) -> None:
        """Queue increments of the dial counters of this minute and day on a pipeline."""
        minute = self._key(f"{MINUTE}{at_ms // 60_000}")
        day = self._key(f"{DAY}{_day(at_ms)}")
        for key, keep in ((minute, MINUTE_KEEP_S), (day, DAY_KEEP_S)):
            for name, value in counts.items():
                pipe.hincrby(key, name, value)
            pipe.expire(key, keep)

    async def add_counts(self, counts: Mapping[str, int], *, at_ms: int | None = None) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            self.count(pipe, counts, at_ms=now_ms() if at_ms is None else at_ms)
            await pipe.execute()

    async def seat(self, user_id: int, *, state: str, since_ms: int, version: int) -> None:
        """Copy an agent's state here (a newer copy already here wins)."""
        await self.queue._run(
            "seat",
            user_id,
            version,
            f"{state}|{since_ms}|{version}",
            more_keys=(self._key(AGENTS),),
        )

    async def unseat(self, user_id: int, *, version: int) -> None:
        """The agent left this assignment (signed off, or works another one now)."""
        await self.queue._run("seat", user_id, version, "", more_keys=(self._key(AGENTS),))

    async def read(self, *, now: int | None = None) -> Floor:
        at = now_ms() if now is None else now
        minute = at // 60_000
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key(AGENTS))
            pipe.zremrangebyscore(self._key(DIALING), "-inf", at)
            pipe.zrange(self._key(DIALING), 0, -1, withscores=True)
            for m in range(minute - WINDOW_MINUTES + 1, minute + 1):
                pipe.hgetall(self._key(f"{MINUTE}{m}"))
            pipe.hgetall(self._key(f"{DAY}{_day(at)}"))
            found: list[Any] = await pipe.execute()
        seats = {}
        for user, value in found[0].items():
            state, since, _ = str(value).split("|")
            seats[int(user)] = Seat(state, int(since))
        window: dict[str, int] = {}
        for counts in found[3:-1]:
            for name, value in counts.items():
                window[str(name)] = window.get(str(name), 0) + int(value)
        day = {str(name): int(value) for name, value in found[-1].items()}
        expiries = tuple(int(score) for _, score in found[2])
        return Floor(
            seats=seats,
            in_flight=len(expiries),
            in_flight_expiries_ms=expiries,
            window=window,
            day=day,
        )
