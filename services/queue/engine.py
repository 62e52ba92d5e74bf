"""One assignment's queue in Redis: claim, select, renew, release, settle, sweep, look ahead."""

import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import NoScriptError

from services.queue import keys
from services.queue.errors import HeldByOther, NotHolder, NotInQueue
from services.queue.placement import Placement, PlacementSource, compute_placement
from services.queue.scripts import Scripts

# How many expired leases and ended cooldowns one claim or tick handles per bucket: bounds the
# work of a single script call, while the worker's tick keeps the backlog at zero.
SWEEP_BATCH = 100
# Customers placed per script call when placing in bulk (imports, rebuilds).
PLACE_CHUNK = 1000
_REGISTRIES = frozenset({"buckets", "segs", "owners"})
# The keys every script is called with, in this order (lua/common.lua).
FIXED_KEYS = ("home", "lease", "holder", "agent", "buckets", "segs", "owners")
# Where a settled lease's receipt waits, by the lease's token (lua/settle.lua, lua/touch.lua).
RECEIPT = "settled:"
# Who asked for work here lately (user -> last claim, ms); not part of the queue itself: the
# live streams read it (services.queue.streams.recent_workers).
WORKERS = "workers"
# The dialer's keys beside the queue (services/queue/dialing.py): a rebuild keeps them.
DIALER_SIDE = ("agents", "dialing", "dialstats:")
# Entries older than this leave the workers set at the next claim.
WORKERS_KEEP_MS = 3600 * 1000
# How long a settled lease's receipt is kept (decision 025): long enough for a client's own
# retry of a lost answer; one key per write, so a day's worth would be tens of millions of keys
# at a busy centre. A later replay needs an Idempotency-Key (kept 24 h).
RECEIPT_KEEP_MS = 15 * 60 * 1000


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Claimed:
    customer_id: int
    source: str  # personal_followup | shared_followup | free | current | selected
    lease_token: str
    lease_expires_ms: int


@dataclass(frozen=True, slots=True)
class Empty:
    """Why nothing could be handed out (rule 13)."""

    held: int
    cooldown: int
    outside_hours: int
    blocked: int
    at_attempt_limit: int
    waiting_followups: int
    next_eligible_ms: int | None


@dataclass(frozen=True, slots=True)
class Holder:
    user_id: int
    lease_token: str
    lease_expires_ms: int


@dataclass(frozen=True, slots=True)
class DueFollowUp:
    customer_id: int
    owner_id: int
    due_ms: int


@dataclass(frozen=True, slots=True)
class ExpiringLease:
    customer_id: int
    user_id: int
    lease_token: str
    expires_ms: int


@dataclass(frozen=True, slots=True)
class ComingDue:
    """What changed in one assignment in an interval (AssignmentQueue.coming_due)."""

    shared_due: bool  # a shared follow-up came due: waiting agents may be served
    personal: tuple[DueFollowUp, ...]
    expiring: tuple[ExpiringLease, ...]


@dataclass(frozen=True, slots=True)
class Overdue:
    """What AssignmentQueue.overdue() found."""

    working: int  # agents who claimed recently
    by_kind: dict[str, tuple[int, int]]  # shared | personal: (how many, due ms of the oldest)


def _claim_result(r: list[str]) -> Claimed | Empty:
    if r[0] == "empty":
        return Empty(
            held=int(r[1]),
            cooldown=int(r[2]),
            outside_hours=int(r[3]),
            blocked=int(r[4]),
            at_attempt_limit=int(r[5]),
            waiting_followups=int(r[6]),
            next_eligible_ms=int(float(r[7])) if r[7] else None,
        )
    return Claimed(int(r[1]), r[2], r[4], int(float(r[3])))


class AssignmentQueue:
    """The keys of one assignment share the hash tag {a:<id>}: one Redis Cluster slot."""

    def __init__(self, redis: Redis, assignment_id: int) -> None:
        self.redis = redis
        self.assignment_id = assignment_id
        self.prefix = keys.assignment_prefix(assignment_id)
        self._scripts = Scripts(redis)
        self.fixed_keys = tuple(self._key(name) for name in FIXED_KEYS)

    def _key(self, name: str) -> str:
        """One of the queue's keys: for this package only, callers use the methods."""
        return self.prefix + name

    def _scan(self, start: str = "") -> AsyncIterator[Any]:
        """The queue's keys whose names begin with `start`, by SCAN (never blocks Redis)."""
        pattern = self.prefix.replace("{", "\\{") + start + "*"
        return self.redis.scan_iter(match=pattern, count=1000)

    @property
    def home_key(self) -> str:
        return self._key("home")

    async def _run(self, script: str, *args: object, more_keys: Sequence[str] = ()) -> list[str]:
        keys = (*self.fixed_keys, *more_keys)
        result: list[str] = await self._scripts.run(script, keys, list(args))
        return result

    def receipt_key(self, lease_token: str) -> str:
        return self._key(RECEIPT + lease_token)

    async def place(self, items: Iterable[tuple[int, Placement]]) -> int:
        """Put customers at their home (new, changed or rebuilt)."""
        placed = 0
        chunk: list[object] = []
        for customer_id, placement in items:
            chunk.extend((customer_id, placement.encode()))
            if len(chunk) >= 2 * PLACE_CHUNK:
                placed += int(await self._scripts.run("place", self.fixed_keys, chunk))
                chunk = []
        if chunk:
            placed += int(await self._scripts.run("place", self.fixed_keys, chunk))
        return placed

    async def place_sources(
        self, sources: Iterable[PlacementSource], *, now: int | None = None
    ) -> int:
        """Compute each customer's place from its facts and put it there."""
        at = now_ms() if now is None else now
        return await self.place((s.customer_id, compute_placement(s, now_ms=at)) for s in sources)

    async def remove(self, customer_ids: Sequence[int]) -> None:
        if customer_ids:
            await self._scripts.run("remove", self.fixed_keys, list(customer_ids))

    async def claim(
        self,
        *,
        user_id: int,
        lease_seconds: int,
        segment: str = "",
        personal_first: bool = True,
        open_time_zones: Sequence[str] | None = None,
        openings: Mapping[str, int] | None = None,
        hold_followups: bool = False,
        now: int | None = None,
    ) -> Claimed | Empty:
        """The next customer for this agent (rule 10), leased to it; or why there is none.

        `open_time_zones` lists the zones inside contact hours now; None means all.
        `openings` gives each closed zone's next opening (epoch ms, 0 for never): the empty
        answer's next eligible time. With `hold_followups`, a due follow-up of a closed zone
        is not served but re-scored to its zone's next opening (calling rules, decision 029).
        """
        raw = await self._scripts.run(
            "claim",
            self.fixed_keys,
            self._claim_args(
                user_id=user_id,
                lease_seconds=lease_seconds,
                segment=segment,
                personal_first=personal_first,
                open_time_zones=open_time_zones,
                openings=openings,
                hold_followups=hold_followups,
                now=now,
            ),
        )
        return _claim_result(raw)

    def _claim_args(
        self,
        *,
        user_id: int,
        lease_seconds: int,
        segment: str = "",
        personal_first: bool = True,
        open_time_zones: Sequence[str] | None = None,
        openings: Mapping[str, int] | None = None,
        hold_followups: bool = False,
        now: int | None = None,
    ) -> list[Any]:
        open_arg = "*" if open_time_zones is None else ",".join(open_time_zones)
        return [
            now_ms() if now is None else now,
            user_id,
            secrets.token_urlsafe(12),
            lease_seconds * 1000,
            segment,
            "1" if personal_first else "0",
            open_arg,
            SWEEP_BATCH,
            ",".join(f"{zone}={ms}" for zone, ms in (openings or {}).items()),
            "1" if hold_followups else "0",
        ]

    async def claim_tracked(
        self,
        *,
        user_id: int,
        lease_seconds: int,
        segment: str = "",
        personal_first: bool = True,
        open_time_zones: Sequence[str] | None = None,
        openings: Mapping[str, int] | None = None,
        hold_followups: bool = False,
        now: int | None = None,
    ) -> tuple[Claimed | Empty, int | None]:
        """claim(), and in the same round trip record this as the agent's assignment.

        Returns the assignment the agent worked before, so the caller can release a customer
        still held there: one current customer per agent (rule 15), across assignments. The
        same round trip notes the agent among the assignment's recent workers (and forgets
        those idle for an hour): they hear when customers are moved in.
        """
        at = now_ms() if now is None else now
        args = self._claim_args(
            user_id=user_id,
            lease_seconds=lease_seconds,
            segment=segment,
            personal_first=personal_first,
            open_time_zones=open_time_zones,
            openings=openings,
            hold_followups=hold_followups,
            now=at,
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            self._scripts.queue_in(pipe, "claim", self.fixed_keys, args)
            pipe.getset(keys.agent(user_id), str(self.assignment_id))
            pipe.zadd(self._key(WORKERS), {str(user_id): at})
            pipe.zremrangebyscore(self._key(WORKERS), "-inf", f"({at - WORKERS_KEEP_MS}")
            raw, previous, _, _ = await pipe.execute(raise_on_error=False)
        if isinstance(raw, NoScriptError):
            # A restarted Redis forgot the scripts: the claim did not run, the rest did.
            await self._scripts.load_all()
            raw = await self._scripts.run("claim", self.fixed_keys, args)
        elif isinstance(raw, Exception):
            raise raw
        if isinstance(previous, Exception):
            # The agent's key is in another slot, on a shard that may be failing over; the
            # claim ran: asked again, the agent gets its customer back as its current one.
            raise previous
        before = int(previous) if previous else None
        return _claim_result(raw), None if before == self.assignment_id else before

    async def release_agent(self, user_id: int) -> int | None:
        """Release whatever this agent holds here; returns the customer id, if any."""
        current = await self.redis.hget(self._key("agent"), str(user_id))
        if current is None:
            return None
        holder = await self.holder(int(current))
        if holder is None or holder.user_id != user_id:
            return None
        try:
            await self.release(int(current), user_id=user_id, lease_token=holder.lease_token)
        except NotHolder:
            return None
        return int(current)

    async def select(
        self, customer_id: int, *, user_id: int, lease_seconds: int, now: int | None = None
    ) -> Claimed:
        """Manual select (rule 15); raises HeldByOther naming the holder (rule 16)."""
        r = await self._run(
            "select",
            now_ms() if now is None else now,
            customer_id,
            user_id,
            secrets.token_urlsafe(12),
            lease_seconds * 1000,
        )
        if r[0] == "missing":
            raise NotInQueue(f"customer {customer_id} is not in assignment {self.assignment_id}")
        if r[0] == "held":
            raise HeldByOther(int(r[1]))
        return Claimed(customer_id, "selected", r[2], int(float(r[1])))

    async def renew(
        self,
        customer_id: int,
        *,
        user_id: int,
        lease_token: str,
        lease_seconds: int,
        now: int | None = None,
    ) -> int:
        """Heartbeat; also the check before writing an attempt or outcome (rule 18)."""
        r = await self._run(
            "touch",
            now_ms() if now is None else now,
            customer_id,
            user_id,
            lease_token,
            lease_seconds * 1000,
            more_keys=(self.receipt_key(lease_token),),
        )
        if r[0] != "ok":
            raise NotHolder(int(r[1]) if r[1] else None, str(r[2]) if len(r) > 2 else "")
        return int(float(r[1]))

    async def release(
        self, customer_id: int, *, user_id: int, lease_token: str = "", force: bool = False
    ) -> int:
        """Return the customer home as it was; returns the former holder's id."""
        r = await self._run("release", customer_id, user_id, lease_token, "1" if force else "0")
        if r[0] != "ok":
            raise NotHolder(int(r[1]) if r[1] else None)
        return int(r[1])

    async def settle(
        self,
        customer_id: int,
        *,
        user_id: int,
        lease_token: str,
        placement: Placement,
        also: Callable[[Any], None] | None = None,
        receipt: str = "",
    ) -> None:
        """After the database accepted a write: end the lease, move to the new home.

        `also` may queue more commands on the pipeline given to it (counters, a wake-up):
        they travel in the same round trip and run after the settle. A `receipt` is kept
        under the lease's token for RECEIPT_KEEP_MS: a later renew of that lease finds it
        in its NotHolder, so a replayed write can be told from one on a lost lease.
        """
        args: list[Any] = [
            customer_id,
            user_id,
            lease_token,
            placement.encode(),
            receipt,
            RECEIPT_KEEP_MS,
        ]
        receipt_key = (self.receipt_key(lease_token),)
        if also is None:
            await self._run("settle", *args, more_keys=receipt_key)
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            self._scripts.queue_in(pipe, "settle", (*self.fixed_keys, *receipt_key), args)
            also(pipe)
            results = await pipe.execute(raise_on_error=False)
        if isinstance(results[0], NoScriptError):
            # A restarted Redis forgot the scripts: the settle did not run, the rest did.
            await self._scripts.load_all()
            await self._run("settle", *args, more_keys=receipt_key)
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, NoScriptError):
                raise result

    async def sweep(self, *, now: int | None = None, batch: int = SWEEP_BATCH) -> tuple[int, int]:
        """Return expired leases and end due cooldowns; (leases returned, cooldowns ended)."""
        r = await self._run("sweep", now_ms() if now is None else now, batch)
        return int(r[0]), int(r[1])

    async def sweep_backlog(
        self, *, now: int | None = None, rounds: int, batch: int = SWEEP_BATCH
    ) -> tuple[int, int]:
        """sweep() again at once while a batch came back full (a backlog), `rounds` times at
        most; the totals."""
        at = now_ms() if now is None else now
        returned = ended = 0
        for _ in range(rounds):
            leases, cooldowns = await self.sweep(now=at, batch=batch)
            returned += leases
            ended += cooldowns
            if leases < batch and cooldowns < batch:
                break
        return returned, ended

    async def coming_due(
        self, *, since: int, now: int, lease_warning_ms: int, personal_limit: int
    ) -> ComingDue:
        """Follow-ups that came due in (since, now], and leases that came within
        `lease_warning_ms` of their end in that interval: two round trips, O(log n) ranges
        each. At most `personal_limit` personal follow-ups per owner."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.smembers(self._key("segs"))
            pipe.smembers(self._key("owners"))
            pipe.zrangebyscore(
                self._key("lease"),
                f"({since + lease_warning_ms}",
                now + lease_warning_ms,
                withscores=True,
            )
            segs, owners_raw, expiring_raw = await pipe.execute()
        segments = sorted(map(str, segs))
        owners = sorted(map(str, owners_raw))
        expiring: list[tuple[str, float]] = [(str(c), float(e)) for c, e in expiring_raw]
        if not (segments or owners or expiring):
            return ComingDue(shared_due=False, personal=(), expiring=())
        async with self.redis.pipeline(transaction=False) as pipe:
            for segment in segments:
                pipe.zrangebyscore(self._key(f"sfu:{segment}"), f"({since}", now, start=0, num=1)
            for owner in owners:
                pipe.zrangebyscore(
                    self._key(f"pfu:{owner}"),
                    f"({since}",
                    now,
                    start=0,
                    num=personal_limit,
                    withscores=True,
                )
            if expiring:
                pipe.hmget(self._key("holder"), [cid for cid, _ in expiring])
            found: list[Any] = await pipe.execute()
        shared = found[: len(segments)]
        by_owner = found[len(segments) : len(segments) + len(owners)]
        personal = tuple(
            DueFollowUp(int(cid), int(owner), int(due_ms))
            for owner, due in zip(owners, by_owner, strict=True)
            for cid, due_ms in due
        )
        holders = found[-1] if expiring else []
        leases = tuple(
            ExpiringLease(int(cid), int(user_id), token, int(expiry))
            for (cid, expiry), holder in zip(expiring, holders, strict=True)
            if holder is not None  # returned meanwhile
            for user_id, token in [str(holder).split("|", 1)]
        )
        return ComingDue(shared_due=any(shared), personal=personal, expiring=leases)

    async def time_zones(self) -> tuple[str, ...]:
        """The zones customers wait in here: buckets (free, cooling, follow-ups) are
        "segment|zone"."""
        buckets = await self.redis.smembers(self._key("buckets"))
        return tuple(sorted({str(b).split("|", 1)[1] for b in buckets}))

    async def holder(self, customer_id: int) -> Holder | None:
        raw = await self.redis.hget(self._key("holder"), str(customer_id))
        if raw is None:
            return None
        user_id, token = str(raw).split("|")
        expiry = await self.redis.zscore(self._key("lease"), str(customer_id))
        return Holder(int(user_id), token, int(expiry or 0))

    async def held_leases(self) -> list[ExpiringLease] | None:
        """Every lease held here now, in one atomic read; None when the queue is gone (Redis
        lost it), so that a copy of the leases is not replaced by nothing."""
        raw: list[str] | None = await self._run("held")
        if raw is None:
            return None
        leases = []
        for i in range(0, len(raw), 3):
            user_id, token = str(raw[i + 1]).split("|", 1)
            leases.append(ExpiringLease(int(raw[i]), int(user_id), token, int(float(raw[i + 2]))))
        return leases

    async def restore_leases(self, leases: Iterable[ExpiringLease], *, now: int) -> int:
        """Give back leases Redis lost (from the database's copy): each one still running on
        a customer nobody holds, to an agent holding nothing else here. How many were."""
        args: list[object] = [now]
        for lease in leases:
            args += [lease.customer_id, lease.user_id, lease.lease_token, lease.expires_ms]
        return int(await self._scripts.run("restore", self.fixed_keys, args))

    async def lost(self) -> bool:
        """Whether the queue is gone from Redis (flushed, restarted empty), or never was."""
        return not await self.redis.exists(self.home_key)

    async def holders(self) -> dict[int, int]:
        """Every customer held in this assignment now, with its holder: one read, as large as
        the number of agents at work, whatever the size of the assignment."""
        raw = await self.redis.hgetall(self._key("holder"))
        return {int(cid): int(str(value).split("|")[0]) for cid, value in raw.items()}

    async def placement_of(self, customer_id: int) -> Placement | None:
        raw = await self.redis.hget(self.home_key, str(customer_id))
        return None if raw is None else Placement.decode(str(raw))

    async def depth(self) -> dict[str, int]:
        """How many customers wait where: for metrics and the supervisor's view."""
        counts = {"free": 0, "cool": 0, "sfu": 0, "pfu": 0, "limit": 0, "blocked": 0}
        async with self.redis.pipeline(transaction=False) as pipe:
            buckets = await self.redis.smembers(self._key("buckets"))
            segs = await self.redis.smembers(self._key("segs"))
            owners = await self.redis.smembers(self._key("owners"))
            names: list[str] = []
            for b in map(str, buckets):
                pipe.zcard(self._key(f"free:{b}"))
                pipe.zcard(self._key(f"cool:{b}"))
                names += ["free", "cool"]
            for s in map(str, segs):
                pipe.zcard(self._key(f"sfu:{s}"))
                pipe.scard(self._key(f"limit:{s}"))
                pipe.scard(self._key(f"blocked:{s}"))
                names += ["sfu", "limit", "blocked"]
            for o in map(str, owners):
                pipe.zcard(self._key(f"pfu:{o}"))
                names.append("pfu")
            pipe.zcard(self._key("lease"))
            names.append("held")
            results = await pipe.execute()
        counts["held"] = 0
        for name, value in zip(names, results, strict=True):
            counts[name] += int(value)
        return counts

    async def overdue(self, *, due_before: int, worked_since: int) -> "Overdue":
        """Follow-ups due before `due_before` (epoch ms) that /next should have served: shared
        ones while anyone claimed here since `worked_since`, personal ones while their owner
        did; and how many agents claimed here since then. For metrics: O(segments + working
        owners) ranges, no scan."""
        workers = set(
            map(str, await self.redis.zrangebyscore(self._key(WORKERS), worked_since, "+inf"))
        )
        found = {"shared": (0, 0), "personal": (0, 0)}
        if not workers:
            return Overdue(working=0, by_kind=found)
        segs = sorted(map(str, await self.redis.smembers(self._key("segs"))))
        owners = sorted(workers & set(map(str, await self.redis.smembers(self._key("owners")))))
        keys = [("shared", self._key(f"sfu:{s}")) for s in segs]
        keys += [("personal", self._key(f"pfu:{o}")) for o in owners]
        async with self.redis.pipeline(transaction=False) as pipe:
            for _, key in keys:
                pipe.zcount(key, "-inf", f"({due_before}")
                pipe.zrange(key, 0, 0, withscores=True)
            replies = await pipe.execute()
        for i, (kind, _) in enumerate(keys):
            count, first = int(replies[2 * i]), replies[2 * i + 1]
            if not count:
                continue
            total, oldest = found[kind]
            due = int(float(first[0][1]))
            found[kind] = (total + count, min(oldest, due) if oldest else due)
        return Overdue(working=len(workers), by_kind=found)

    async def snapshot(self) -> dict[str, object]:
        """Every key of this assignment with its content: proves a rebuild equals the queue."""
        out: dict[str, object] = {}
        async for key in self._scan():
            name = str(key)[len(self.prefix) :]
            if name in _REGISTRIES or name == WORKERS:
                continue  # derived indexes of non-empty structures; may keep stale names
            if name.startswith(DIALER_SIDE):
                continue  # the dialer's side (dialing.py): not rebuilt from the database
            kind = await self.redis.type(key)
            if kind == "zset":
                out[name] = await self.redis.zrange(key, 0, -1, withscores=True)
            elif kind == "hash":
                out[name] = await self.redis.hgetall(key)
            elif kind == "set":
                out[name] = sorted(await self.redis.smembers(key))
        return out

    async def copy_to(self, target: "AssignmentQueue") -> None:
        """Make `target` a copy of this queue, leases included, inside Redis (COPY): a
        benchmark places a large queue once and copies it for every run."""
        await target.clear(keep_leases=False)
        async for key in self._scan():
            name = str(key)[len(self.prefix) :]
            if isinstance(self.redis, RedisCluster):
                # Two assignments, two slots: COPY cannot cross them, DUMP and RESTORE can.
                dumped: Any = await self.redis.dump(str(key))
                await self.redis.restore(target._key(name), 0, dumped, replace=True)
            else:
                await self.redis.copy(str(key), target._key(name), replace=True)

    async def clear(self, *, keep_leases: bool = True) -> None:
        """Drop every key of the queue before a rebuild; leases survive unless told not to."""
        lease_keys = {
            self._key("lease"),
            self._key("holder"),
            self._key("agent"),
            self._key(WORKERS),
        }
        async for key in self._scan():
            if keep_leases and str(key) in lease_keys:
                continue
            if str(key)[len(self.prefix) :].startswith(DIALER_SIDE):
                continue  # agents' states and dial counters are not the queue's to rebuild
            await self.redis.delete(key)


async def transfer(
    moved: Iterable[tuple[int, int]],
    *,
    target: AssignmentQueue,
    sources: Iterable[PlacementSource],
    now: int | None = None,
) -> int:
    """Customers moved to `target` leave their old queues (leases included) and take their
    place in the target's. `moved` pairs each customer with the assignment it came from."""
    by_source: dict[int, list[int]] = {}
    for customer_id, source in moved:
        if source != target.assignment_id:
            by_source.setdefault(source, []).append(customer_id)
    for source, customer_ids in by_source.items():
        await AssignmentQueue(target.redis, source).remove(customer_ids)
    return await target.place_sources(sources, now=now)
