"""The worker's tick: return expired leases, end cooldowns, wake agents waiting for work,
and feed the live event streams.

Every claim sweeps its own assignment too; the tick makes sure an assignment nobody asks for
still returns its leases, and that waiting agents hear when a customer becomes eligible
(rule 13: woken as soon as one is free; rule 20: shared follow-ups served within 1 s).

It also writes the once-only events of the live streams (docs/decisions/006-live.md):
`followup_due` (a personal follow-up came due) and `lease_expiring` (a lease ends within the
warning time) to the user's stream, and `stats` of every watched assignment to the
assignment's stream. Several worker replicas tick side by side; each of these events is
claimed first with SET NX PX, so exactly one replica writes it.
"""

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue, ComingDue, keys, now_ms, streams
from services.queue.broadcast import publish_eligible
from services.queue.streams import Activity, EventType
from services.worker.abandoned import AbandonedJobs
from services.worker.jobs.blocklist import lift_expired_blocks
from services.worker.jobs.followups import fall_back_passed_followups
from services.worker.jobs.retention import run_retention_once
from services.worker.leases import LEASE_COPY_INTERVAL_S, copy_leases
from services.worker.reconcile import reconcile_all
from services.worker.recovery import QueueRecovery
from shared.infra import metrics
from shared.models import Assignment
from shared.webhooks import outbox
from shared.webhooks.types import Message, WebhookType, customer_key

log = logging.getLogger(__name__)

# How often the list of active assignments is re-read: a new assignment is swept within this.
ASSIGNMENT_REFRESH_S = 5.0
# Assignments swept at the same time; bounds the tick's Redis connections.
CONCURRENCY = 32
# A sweep that returned a full batch has a backlog: it is repeated at once, this often at most.
MAX_ROUNDS = 20
# After a failed tick (Redis or the database away) wait longer each time, up to this.
MAX_BACKOFF_S = 5.0
# Defaults of the live streams (production passes the settings of the same names).
STATS_INTERVAL_S = 2.0
LEASE_WARNING_S = 30.0
# Personal follow-ups announced per owner, assignment and tick at most.
ANNOUNCE_BATCH = 100
# How long a replica's claim on a once-only event is kept: longer than any two replicas' ticks
# can disagree about which tick an event falls in.
ONCE_TTL_MS = 10 * 60 * 1000

# Personal follow-ups passed by more than an assignment's limit fall back to shared at most
# this long after they qualify: the limit itself is counted in minutes.
FALLBACK_INTERVAL_S = 30
# How often a replica asks whether the queues are due for reconciling (one replica does it per
# services.worker.reconcile.RECONCILE_INTERVAL_S).
RECONCILE_CHECK_S = 30.0
# How often a replica asks whether retention is due (one replica runs it per
# services.worker.jobs.retention.RETENTION_INTERVAL_S).
RETENTION_CHECK_S = 60.0


@dataclass(frozen=True, slots=True)
class TickResult:
    assignments: int
    leases_returned: int
    cooldowns_ended: int
    woken: tuple[int, ...]  # assignments told that a customer became eligible
    announced: int = 0  # followup_due and lease_expiring events written to user streams
    stats: tuple[int, ...] = ()  # assignments whose stats were written


@dataclass(frozen=True, slots=True)
class _Swept:
    assignment_id: int
    leases_returned: int
    cooldowns_ended: int
    woken: bool
    announced: int = 0
    stats: bool = False


@dataclass(frozen=True, slots=True)
class _Notice:
    """A once-only event for one user's stream, claimed under `claim` before it is written."""

    claim: str
    user_id: int
    type: EventType
    data: dict[str, Any]


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def _notices(assignment_id: int, due: ComingDue) -> list[_Notice]:
    """The once-only events of what came due: personal follow-ups to their owners, nearing
    lease ends to their holders."""
    a = assignment_id
    notices = [
        _Notice(
            f"fu:{f.customer_id}:{f.due_ms}",
            f.owner_id,
            EventType.followup_due,
            {"assignment_id": a, "customer_id": f.customer_id, "due_at": _iso(f.due_ms)},
        )
        for f in due.personal
    ]
    notices += [
        _Notice(
            f"le:{lease.customer_id}:{lease.lease_token}:{lease.expires_ms}",
            lease.user_id,
            EventType.lease_expiring,
            {
                "assignment_id": a,
                "customer_id": lease.customer_id,
                "expires_at": _iso(lease.expires_ms),
            },
        )
        for lease in due.expiring
    ]
    return notices


class Scheduler:
    """Sweeps every active assignment; `tick()` is one pass, `run()` repeats it."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        refresh_s: float = ASSIGNMENT_REFRESH_S,
        stream_window: int = streams.DEFAULT_WINDOW,
        stats_interval_s: float = STATS_INTERVAL_S,
        lease_warning_s: float = LEASE_WARNING_S,
        abandoned: AbandonedJobs | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.refresh_s = refresh_s
        self.stream_window = stream_window
        self.stats_ms = max(1, int(stats_interval_s * 1000))
        self.lease_warning_ms = int(lease_warning_s * 1000)
        # Runs again the imports and bulk jobs a killed worker left behind.
        self.abandoned = abandoned
        self._ids: list[int] = []
        self._ids_until = 0.0
        self._last_tick_ms: int | None = None
        self._stats_slot: int | None = None

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
        slot = at // self.stats_ms
        stats_slot = slot if slot != self._stats_slot else None

        async def one(assignment_id: int) -> _Swept:
            async with limit:
                return await self.sweep_assignment(
                    assignment_id, now=at, since=since, stats_slot=stats_slot
                )

        swept = await asyncio.gather(*(one(i) for i in ids))
        self._last_tick_ms = at
        self._stats_slot = slot
        returned = sum(s.leases_returned for s in swept)
        if returned:
            metrics.LEASES_EXPIRED.inc(returned)
        return TickResult(
            assignments=len(ids),
            leases_returned=returned,
            cooldowns_ended=sum(s.cooldowns_ended for s in swept),
            woken=tuple(s.assignment_id for s in swept if s.woken),
            announced=sum(s.announced for s in swept),
            stats=tuple(s.assignment_id for s in swept if s.stats),
        )

    async def sweep_assignment(
        self, assignment_id: int, *, now: int, since: int, stats_slot: int | None = None
    ) -> _Swept:
        """Sweep one queue; publish "eligible" if that or a due follow-up freed a customer;
        write the live events of (since, now], and the stats when `stats_slot` is given."""
        queue = AssignmentQueue(self.redis, assignment_id)
        returned, ended = await queue.sweep_backlog(now=now, rounds=MAX_ROUNDS)
        due = await queue.coming_due(
            since=since,
            now=now,
            lease_warning_ms=self.lease_warning_ms,
            personal_limit=ANNOUNCE_BATCH,
        )
        woken = bool(returned or ended or due.shared_due or due.personal)
        if woken:
            await publish_eligible(self.redis, assignment_id)
        announced = await self._announce(assignment_id, _notices(assignment_id, due))
        stats = stats_slot is not None and await self._stats(queue, slot=stats_slot, now=now)
        if returned:
            log.info("scheduler.leases_returned assignment_id=%d count=%d", assignment_id, returned)
        return _Swept(assignment_id, returned, ended, woken, announced, stats)

    async def _announce(self, assignment_id: int, notices: list[_Notice]) -> int:
        """Claim each notice (SET NX PX: one replica wins) and write the won ones."""
        if not notices:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for notice in notices:
                streams.claim_once(pipe, assignment_id, notice.claim, ttl_ms=ONCE_TTL_MS)
            won = [n for n, ok in zip(notices, await pipe.execute(), strict=True) if ok]
        if won:
            async with self.redis.pipeline(transaction=False) as pipe:
                for notice in won:
                    streams.add(
                        pipe,
                        streams.user_stream(notice.user_id),
                        notice.type,
                        notice.data,
                        window=self.stream_window,
                    )
                await pipe.execute()
            await self._followups_due_hooks(assignment_id, won)
        return len(won)

    async def _followups_due_hooks(self, assignment_id: int, won: list[_Notice]) -> None:
        """The `followup.due` webhooks of the follow-ups this replica announced (decision
        037): written after the claim, so one replica writes them."""
        due = [n for n in won if n.type == EventType.followup_due]
        if not due:
            return
        at = datetime.now(UTC)
        async with self.sessionmaker() as session:
            tenant_id = await session.scalar(
                select(Assignment.tenant_id).where(Assignment.id == assignment_id)
            )
            if tenant_id is None:
                return
            messages = [
                Message(
                    WebhookType.followup_due,
                    n.data | {"owner_id": n.user_id},
                    customer_key(n.data["customer_id"]),
                    at,
                )
                for n in due
            ]
            await outbox.enqueue(session, tenant_id, *messages)
            await session.commit()

    async def _stats(self, queue: AssignmentQueue, *, slot: int, now: int) -> bool:
        """The assignment's stats, if someone watches its stream and no replica wrote them
        for this interval yet."""
        a = queue.assignment_id
        if not await streams.is_watched(self.redis, a):
            return False
        async with self.redis.pipeline(transaction=False) as pipe:
            streams.claim_once(pipe, a, f"stats:{slot}", ttl_ms=self.stats_ms * 5)
            (claimed,) = await pipe.execute()
        if not claimed:
            return False
        depth = await queue.depth()
        held = depth.pop("held")
        data = {
            "assignment_id": a,
            "at": _iso(now),
            "depth": depth,
            "waiting": depth["free"] + depth["cool"] + depth["sfu"] + depth["pfu"],
            "leases_held": held,
            "outcomes_last_minute": await streams.activity_last_minute(
                self.redis, a, Activity.outcomes, at_ms=now
            ),
            "attempts_last_minute": await streams.activity_last_minute(
                self.redis, a, Activity.attempts, at_ms=now
            ),
        }
        async with self.redis.pipeline(transaction=False) as pipe:
            streams.add(
                pipe, streams.assignment_stream(a), EventType.stats, data, window=self.stream_window
            )
            await pipe.execute()
        return True

    async def fall_back(self, *, now: int | None = None) -> int:
        """Rule 22's fallback, run by one replica per FALLBACK_INTERVAL_S."""
        at = now_ms() if now is None else now
        slot = at // (FALLBACK_INTERVAL_S * 1000)
        if not await self.redis.set(
            keys.once(f"fallback:{slot}"), "1", nx=True, px=FALLBACK_INTERVAL_S * 2000
        ):
            return 0
        turned = await fall_back_passed_followups(sessionmaker=self.sessionmaker, redis=self.redis)
        # Blocklist entries that expired: their customers come back (decision 033).
        await lift_expired_blocks(sessionmaker=self.sessionmaker, redis=self.redis)
        return turned

    async def run(self, *, interval_s: float, stop: threading.Event) -> None:
        """Tick every `interval_s` until `stop` is set; a failed tick is logged, not fatal."""
        log.info("scheduler.started interval_s=%s", interval_s)
        # Rebuilds the queues when Redis restarted empty or was flushed.
        recovery = QueueRecovery(sessionmaker=self.sessionmaker, redis=self.redis)
        # Compares the queues with the database now and then, beside the ticks: a large
        # queue takes seconds, and the ticks serve follow-ups within a second meanwhile.
        reconciling = asyncio.create_task(self._reconcile(stop), name="nextcall-reconcile")
        # Anonymises customers past their retention, beside the ticks too (issue 15 point 5).
        retaining = asyncio.create_task(self._retention(stop), name="nextcall-retention")
        try:
            await self._loop(recovery, interval_s=interval_s, stop=stop)
        finally:
            for task in (reconciling, retaining):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        log.info("scheduler.stopped")

    async def _reconcile(self, stop: threading.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(RECONCILE_CHECK_S)
            try:
                await reconcile_all(sessionmaker=self.sessionmaker, redis=self.redis)
            except Exception:
                log.exception("scheduler.reconcile_failed")

    async def _retention(self, stop: threading.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(RETENTION_CHECK_S)
            try:
                await run_retention_once(
                    sessionmaker=self.sessionmaker, redis=self.redis, now_s=time.time()
                )
            except Exception:
                log.exception("scheduler.retention_failed")

    async def _loop(
        self, recovery: QueueRecovery, *, interval_s: float, stop: threading.Event
    ) -> None:
        failures = 0
        next_fallback = 0.0
        next_copy = 0.0
        previous: float | None = None
        while not stop.is_set():
            started = time.monotonic()
            lag = 0.0 if previous is None else max(0.0, started - previous - interval_s)
            previous = started
            try:
                await recovery.check()
                if self.abandoned is not None:
                    await self.abandoned.check()
                await self.tick(interval_ms=int(interval_s * 1000))
                if started >= next_copy:
                    next_copy = started + LEASE_COPY_INTERVAL_S
                    await copy_leases(
                        await self.assignment_ids(),
                        sessionmaker=self.sessionmaker,
                        redis=self.redis,
                    )
                if started >= next_fallback:
                    next_fallback = started + FALLBACK_INTERVAL_S
                    await self.fall_back()
                failures = 0
                metrics.TICK_DURATION.observe(time.monotonic() - started)
                metrics.TICK_LAG.observe(lag)
                metrics.LAST_TICK.set(time.time())
            except Exception:
                failures += 1
                metrics.TICK_FAILURES.inc()
                log.exception("scheduler.tick_failed failures=%d", failures)
            pause = interval_s - (time.monotonic() - started)
            if failures:
                pause = min(MAX_BACKOFF_S, interval_s * 2 ** min(failures, 8))
            await asyncio.sleep(max(0.0, pause))
