"""The worker's tick: return expired leases, end cooldowns, wake agents waiting for work.

Every claim sweeps its own assignment too; the tick makes sure an assignment nobody asks for
still returns its leases, and that waiting agents hear when a customer becomes eligible
(rule 13: woken as soon as one is free; rule 20: shared follow-ups served within 1 s).
"""

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.queue.engine import SWEEP_BATCH, now_ms
from shared import metrics
from shared.broadcast import assignment_channel, eligible_message
from shared.models import Assignment

log = logging.getLogger(__name__)

# How often the list of active assignments is re-read: a new assignment is swept within this.
ASSIGNMENT_REFRESH_S = 5.0
# Assignments swept at the same time; bounds the tick's Redis connections.
CONCURRENCY = 32
# A sweep that returned a full batch has a backlog: it is repeated at once, this often at most.
MAX_ROUNDS = 20
# After a failed tick (Redis or the database away) wait longer each time, up to this.
MAX_BACKOFF_S = 5.0

# RQ forks a work-horse while this thread may be recording a metric. prometheus_client's
# multiprocess values share one lock, and a child forked while it is held would hang at its
# first metric; services/worker/main.py holds this guard across every fork().
FORK_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class TickResult:
    assignments: int
    leases_returned: int
    cooldowns_ended: int
    woken: tuple[int, ...]  # assignments told that a customer became eligible


@dataclass(frozen=True, slots=True)
class _Swept:
    assignment_id: int
    leases_returned: int
    cooldowns_ended: int
    woken: bool


class Scheduler:
    """Sweeps every active assignment; `tick()` is one pass, `run()` repeats it."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        refresh_s: float = ASSIGNMENT_REFRESH_S,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.refresh_s = refresh_s
        self._ids: list[int] = []
        self._ids_until = 0.0
        self._last_tick_ms: int | None = None

    async def assignment_ids(self) -> list[int]:
        """The active assignments, read from the database at most every `refresh_s`."""
        if time.monotonic() >= self._ids_until:
            async with self.sessionmaker() as session:
                found = await session.scalars(
                    select(Assignment.id).where(Assignment.active.is_(True)).order_by(Assignment.id)
                )
                self._ids = list(found)
            self._ids_until = time.monotonic() + self.refresh_s
        return self._ids

    async def tick(self, *, now: int | None = None, interval_ms: int = 250) -> TickResult:
        """One pass over every active assignment, at `now` (epoch ms, default the clock)."""
        at = now_ms() if now is None else now
        since = self._last_tick_ms if self._last_tick_ms is not None else at - interval_ms
        ids = await self.assignment_ids()
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(assignment_id: int) -> _Swept:
            async with limit:
                return await self.sweep_assignment(assignment_id, now=at, since=since)

        swept = await asyncio.gather(*(one(i) for i in ids))
        self._last_tick_ms = at
        returned = sum(s.leases_returned for s in swept)
        if returned:
            with FORK_GUARD:
                metrics.LEASES_EXPIRED.inc(returned)
        return TickResult(
            assignments=len(ids),
            leases_returned=returned,
            cooldowns_ended=sum(s.cooldowns_ended for s in swept),
            woken=tuple(s.assignment_id for s in swept if s.woken),
        )

    async def sweep_assignment(self, assignment_id: int, *, now: int, since: int) -> _Swept:
        """Sweep one queue; publish "eligible" if that or a due follow-up freed a customer."""
        queue = AssignmentQueue(self.redis, assignment_id)
        returned = ended = 0
        for _ in range(MAX_ROUNDS):
            leases, cooldowns = await queue.sweep(now=now)
            returned += leases
            ended += cooldowns
            if leases < SWEEP_BATCH and cooldowns < SWEEP_BATCH:
                break
        woken = bool(returned or ended) or await self._followup_due(queue, since=since, now=now)
        if woken:
            await self.redis.publish(
                assignment_channel(assignment_id), eligible_message(assignment_id)
            )
        if returned:
            log.info("scheduler.leases_returned assignment_id=%d count=%d", assignment_id, returned)
        return _Swept(assignment_id, returned, ended, woken)

    async def _followup_due(self, queue: AssignmentQueue, *, since: int, now: int) -> bool:
        """Did a shared follow-up become due in (since, now]? One O(log n) range per segment."""
        segments = await self.redis.smembers(queue.key("segs"))
        if not segments:
            return False
        async with self.redis.pipeline(transaction=False) as pipe:
            for segment in map(str, segments):
                pipe.zrangebyscore(queue.key(f"sfu:{segment}"), f"({since}", now, start=0, num=1)
            found = await pipe.execute()
        return any(found)

    async def run(self, *, interval_s: float, stop: threading.Event) -> None:
        """Tick every `interval_s` until `stop` is set; a failed tick is logged, not fatal."""
        log.info("scheduler.started interval_s=%s", interval_s)
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self.tick(interval_ms=int(interval_s * 1000))
                failures = 0
            except Exception:
                failures += 1
                log.exception("scheduler.tick_failed failures=%d", failures)
            pause = interval_s - (time.monotonic() - started)
            if failures:
                pause = min(MAX_BACKOFF_S, interval_s * 2 ** min(failures, 8))
            await asyncio.sleep(max(0.0, pause))
        log.info("scheduler.stopped")
