"""One assignment's queue in Redis: claim, select, renew, release, settle, sweep, rebuild."""

import asyncio
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError, NoScriptError, ResponseError, TimeoutError

from services.queue.errors import HeldByOther, NotHolder, NotInQueue
from services.queue.placement import (
    Entry,
    FreeByBucket,
    Placement,
    PlacementSource,
    compute_placement,
)
from services.queue.scripts import Scripts

DEFAULT_PREFIX = "nc"
_T = TypeVar("_T")
# How many expired leases and ended cooldowns one claim or tick handles per bucket: bounds the
# work of a single script call, while the worker's tick keeps the backlog at zero.
SWEEP_BATCH = 100
# Customers placed per script call when placing in bulk (imports, rebuilds).
PLACE_CHUNK = 1000
_REGISTRIES = frozenset({"buckets", "segs", "owners"})
# Who asked for work here lately (user -> last claim, ms); not part of the queue itself. The
# API's live notifications read it (shared/streams.py names the same key).
WORKERS = "workers"
# Entries older than this leave the workers set at the next claim.
WORKERS_KEEP_MS = 3600 * 1000


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


def agent_key(app_prefix: str, user_id: int) -> str:
    """The assignment an agent last asked for work in (its own slot: one key per agent)."""
    return f"{app_prefix}:agent:{{u:{user_id}}}"


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

    def __init__(self, redis: Redis, assignment_id: int, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = redis
        self.app_prefix = prefix
        self.assignment_id = assignment_id
        self.prefix = f"{prefix}:{{a:{assignment_id}}}:"
        self._scripts = Scripts(redis)

    def key(self, name: str) -> str:
        return self.prefix + name

    @property
    def home_key(self) -> str:
        return self.key("home")

    async def _run(self, script: str, *args: object) -> list[str]:
        result: list[str] = await self._scripts.run(script, self.home_key, list(args))
        return result

    async def place(self, items: Iterable[tuple[int, Placement]]) -> int:
        """Put customers at their home (new, changed or rebuilt)."""
        placed = 0
        chunk: list[object] = []
        for customer_id, placement in items:
            chunk.extend((customer_id, placement.encode()))
            if len(chunk) >= 2 * PLACE_CHUNK:
                placed += int(await self._scripts.run("place", self.home_key, chunk))
                chunk = []
        if chunk:
            placed += int(await self._scripts.run("place", self.home_key, chunk))
        return placed

    async def place_sources(
        self, sources: Iterable[PlacementSource], *, now: int | None = None
    ) -> int:
        """Compute each customer's place from its facts and put it there."""
        at = now_ms() if now is None else now
        return await self.place((s.customer_id, compute_placement(s, now_ms=at)) for s in sources)

    async def remove(self, customer_ids: Sequence[int]) -> None:
        if customer_ids:
            await self._scripts.run("remove", self.home_key, list(customer_ids))

    async def claim(
        self,
        *,
        user_id: int,
        lease_seconds: int,
        segment: str = "",
        personal_first: bool = True,
        open_time_zones: Sequence[str] | None = None,
        now: int | None = None,
    ) -> Claimed | Empty:
        """The next customer for this agent (rule 10), leased to it; or why there is none.

        `open_time_zones` lists the zones inside contact hours now; None means all.
        """
        raw = await self._scripts.run(
            "claim",
            self.home_key,
            self._claim_args(
                user_id=user_id,
                lease_seconds=lease_seconds,
                segment=segment,
                personal_first=personal_first,
                open_time_zones=open_time_zones,
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
        ]

    async def claim_tracked(
        self,
        *,
        user_id: int,
        lease_seconds: int,
        segment: str = "",
        personal_first: bool = True,
        open_time_zones: Sequence[str] | None = None,
    ) -> tuple[Claimed | Empty, int | None]:
        """claim(), and in the same round trip record this as the agent's assignment.

        Returns the assignment the agent worked before, so the caller can release a customer
        still held there: one current customer per agent (rule 15), across assignments. The
        same round trip notes the agent among the assignment's recent workers (and forgets
        those idle for an hour): they hear when customers are moved in.
        """
        at = now_ms()
        args = self._claim_args(
            user_id=user_id,
            lease_seconds=lease_seconds,
            segment=segment,
            personal_first=personal_first,
            open_time_zones=open_time_zones,
            now=at,
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            self._scripts.queue_in(pipe, "claim", self.home_key, args)
            pipe.getset(agent_key(self.app_prefix, user_id), str(self.assignment_id))
            pipe.zadd(self.key(WORKERS), {str(user_id): at})
            pipe.zremrangebyscore(self.key(WORKERS), "-inf", f"({at - WORKERS_KEEP_MS}")
            raw, previous, _, _ = await pipe.execute(raise_on_error=False)
        if isinstance(raw, NoScriptError):
            # A restarted Redis forgot the scripts: the claim did not run, the rest did.
            await self._scripts.load_all()
            raw = await self._scripts.run("claim", self.home_key, args)
        elif isinstance(raw, Exception):
            raise raw
        before = int(previous) if previous else None
        return _claim_result(raw), None if before == self.assignment_id else before

    async def release_agent(self, user_id: int) -> int | None:
        """Release whatever this agent holds here; returns the customer id, if any."""
        current = await self.redis.hget(self.key("agent"), str(user_id))
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
        )
        if r[0] != "ok":
            raise NotHolder(int(r[1]) if r[1] else None)
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
    ) -> None:
        """After the database accepted a write: end the lease, move to the new home.

        `also` may queue more commands on the pipeline given to it (counters, a wake-up):
        they travel in the same round trip and run after the settle.
        """
        args: list[Any] = [customer_id, user_id, lease_token, placement.encode()]
        if also is None:
            await self._run("settle", *args)
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            self._scripts.queue_in(pipe, "settle", self.home_key, args)
            also(pipe)
            results = await pipe.execute(raise_on_error=False)
        if isinstance(results[0], NoScriptError):
            # A restarted Redis forgot the scripts: the settle did not run, the rest did.
            await self._scripts.load_all()
            await self._run("settle", *args)
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, NoScriptError):
                raise result

    async def sweep(self, *, now: int | None = None, batch: int = SWEEP_BATCH) -> tuple[int, int]:
        """Return expired leases and end due cooldowns; (leases returned, cooldowns ended)."""
        r = await self._run("sweep", now_ms() if now is None else now, batch)
        return int(r[0]), int(r[1])

    async def holder(self, customer_id: int) -> Holder | None:
        raw = await self.redis.hget(self.key("holder"), str(customer_id))
        if raw is None:
            return None
        user_id, token = str(raw).split("|")
        expiry = await self.redis.zscore(self.key("lease"), str(customer_id))
        return Holder(int(user_id), token, int(expiry or 0))

    async def holders(self) -> dict[int, int]:
        """Every customer held in this assignment now, with its holder: one read, as large as
        the number of agents at work, whatever the size of the assignment."""
        raw = await self.redis.hgetall(self.key("holder"))
        return {int(cid): int(str(value).split("|")[0]) for cid, value in raw.items()}

    async def placement_of(self, customer_id: int) -> Placement | None:
        raw = await self.redis.hget(self.home_key, str(customer_id))
        return None if raw is None else Placement.decode(str(raw))

    async def depth(self) -> dict[str, int]:
        """How many customers wait where: for metrics and the supervisor's view."""
        counts = {"free": 0, "cool": 0, "sfu": 0, "pfu": 0, "limit": 0, "blocked": 0}
        async with self.redis.pipeline(transaction=False) as pipe:
            buckets = await self.redis.smembers(self.key("buckets"))
            segs = await self.redis.smembers(self.key("segs"))
            owners = await self.redis.smembers(self.key("owners"))
            names: list[str] = []
            for b in map(str, buckets):
                pipe.zcard(self.key(f"free:{b}"))
                pipe.zcard(self.key(f"cool:{b}"))
                names += ["free", "cool"]
            for s in map(str, segs):
                pipe.zcard(self.key(f"sfu:{s}"))
                pipe.scard(self.key(f"limit:{s}"))
                pipe.scard(self.key(f"blocked:{s}"))
                names += ["sfu", "limit", "blocked"]
            for o in map(str, owners):
                pipe.zcard(self.key(f"pfu:{o}"))
                names.append("pfu")
            pipe.zcard(self.key("lease"))
            names.append("held")
            results = await pipe.execute()
        counts["held"] = 0
        for name, value in zip(names, results, strict=True):
            counts[name] += int(value)
        return counts

    async def snapshot(self) -> dict[str, object]:
        """Every key of this assignment with its content: proves a rebuild equals the queue."""
        out: dict[str, object] = {}
        async for key in self.redis.scan_iter(match=self.prefix.replace("{", "\\{") + "*"):
            name = str(key)[len(self.prefix) :]
            if name in _REGISTRIES or name == WORKERS:
                continue  # derived indexes of non-empty structures; may keep stale names
            kind = await self.redis.type(key)
            if kind == "zset":
                out[name] = await self.redis.zrange(key, 0, -1, withscores=True)
            elif kind == "hash":
                out[name] = await self.redis.hgetall(key)
            elif kind == "set":
                out[name] = sorted(await self.redis.smembers(key))
        return out

    async def clear(self, *, keep_leases: bool = True) -> None:
        """Drop every key of the queue before a rebuild; leases survive unless told not to."""
        lease_keys = {self.key("lease"), self.key("holder"), self.key("agent"), self.key(WORKERS)}
        async for key in self.redis.scan_iter(match=self.prefix.replace("{", "\\{") + "*"):
            if keep_leases and str(key) in lease_keys:
                continue
            await self.redis.delete(key)


# Where a rebuild writes the queue before swapping it in (services/queue/lua/swap.lua).
BUILD = "build:"
# Fields or members per command when a build writes in bulk.
BUILD_CHUNK = 10_000


class QueueBuild:
    """An assignment's queue written from scratch under fresh keys, then swapped in whole.

    Agents keep claiming from the current queue while the build runs and never see a half
    built one. Writing is plain HSET/ZADD/SADD, thousands of members per command: the fresh
    keys hold nobody else's changes, so nothing needs a script until the swap.
    """

    def __init__(self, queue: AssignmentQueue) -> None:
        self.queue = queue
        self.names: set[str] = set()
        self.placed = 0

    def _key(self, name: str) -> str:
        return self.queue.key(BUILD + name)

    async def start(self) -> None:
        """Drop what an interrupted build left behind."""
        redis = self.queue.redis
        pattern = self.queue.prefix.replace("{", "\\{") + BUILD + "*"
        async for key in redis.scan_iter(match=pattern, count=1000):
            await redis.unlink(key)

    async def add(self, sources: Iterable[PlacementSource], *, now: int) -> int:
        """Place these customers in the build; returns how many."""
        return await self.add_entries(
            [compute_placement(src, now_ms=now).entry(src.customer_id) for src in sources]
        )

    async def add_entries(self, entries: Sequence[Entry], free: FreeByBucket | None = None) -> int:
        """Place customers given as entries (services.queue.placement.Entry) and free ones
        by bucket (plain_places); returns how many. Each customer once per build: a second
        entry would leave the first behind."""
        free = free or {}
        count = len(entries) + sum(len(members) for members in free.values())
        if not count:
            return 0
        commands, names = _build_commands(self._key, entries, free)
        text = "".join(commands)
        if not text.isascii():
            commands, names = _build_commands(self._key, entries, free, _utf8_len)
            text = "".join(commands)
        await _send(self.queue.redis, text.encode(), len(commands))
        self.names.update(names)
        self.placed += count
        return count

    async def swap(self) -> int:
        """Replace the queue by the build (leases stay); returns how many were placed."""
        await self.queue._scripts.run("swap", self.queue.home_key, sorted(self.names))
        return self.placed


def _build_commands(
    key: Callable[[str], str],
    entries: Sequence[Entry],
    free: FreeByBucket,
    size: Callable[[str], int] = len,
) -> tuple[list[str], set[str]]:
    """HSET, ZADD and SADD commands that write these entries, each already in the Redis
    protocol (RESP), and the names of the keys they write.

    redis-py encodes every argument on its own (~10 µs each in a rebuild's profile); here
    each customer's arguments are one f-string. `size` is the byte length of a text: `len`
    for ASCII, which is what a build writes unless a time zone says otherwise.
    """
    commands: list[str] = []

    def command(name: str, target: str, args: int, body: list[str]) -> None:
        head = f"*{args + 2}\r\n${len(name)}\r\n{name}\r\n${size(target)}\r\n{target}\r\n"
        commands.append(head + "".join(body))

    for part in _chunks(entries):
        body = [f"${size(c)}\r\n{c}\r\n${size(h)}\r\n{h}\r\n" for c, h, _, _, _, _ in part]
        command("HSET", key("home"), 2 * len(part), body)
    by_structure: dict[str, list[Entry]] = {}
    for e in entries:
        if e[3]:
            by_structure.setdefault(e[3], []).append(e)
    registries: dict[str, set[str]] = {"segs": {e[2] for e in entries}}
    for bucket, pairs in free.items():
        registries["segs"].add(bucket.partition("|")[0])
        # Named with the rest; its members are written here, from their ranks alone.
        by_structure.setdefault("free:" + bucket, [])
        # Every home here is "free|<bucket>|<rank>||": its length is the prefix's plus the
        # rank's, which is plain hex.
        prefix = f"free|{bucket}|"
        length = size(prefix) + 2
        for ranked in _chunks(pairs):
            body = [
                f"${len(c)}\r\n{c}\r\n${length + len(r)}\r\n{prefix}{r}||\r\n" for c, r in ranked
            ]
            command("HSET", key("home"), 2 * len(ranked), body)
            body = [f"$1\r\n0\r\n${len(r)}\r\n{r}\r\n" for _, r in ranked]
            command("ZADD", key("free:" + bucket), 2 * len(ranked), body)
    for name, members in by_structure.items():
        kind, _, rest = name.partition(":")
        if kind in ("free", "cool"):
            registries.setdefault("buckets", set()).add(rest)
        elif kind == "pfu":
            registries.setdefault("owners", set()).add(rest)
        for part in _chunks(members):
            if part[0][5] is None:
                body = [f"${size(m)}\r\n{m}\r\n" for _, _, _, _, m, _ in part]
                command("SADD", key(name), len(part), body)
            else:
                body = [
                    f"${len(str(score))}\r\n{score}\r\n${size(m)}\r\n{m}\r\n"
                    for _, _, _, _, m, score in part
                ]
                command("ZADD", key(name), 2 * len(part), body)
    for registry, values in registries.items():
        for chunk in _chunks(sorted(values)):
            command("SADD", key(registry), len(chunk), [f"${size(v)}\r\n{v}\r\n" for v in chunk])
    return commands, {"home", *by_structure, *registries}


def _utf8_len(text: str) -> int:
    return len(text.encode())


async def _send(redis: Redis, payload: bytes, replies: int) -> None:
    """Send packed commands in one write, then read every reply: no transaction, no script.

    An error reply raises after every reply was read, so the connection stays usable.
    """
    pool = redis.connection_pool
    connection = await pool.get_connection()
    try:
        await connection.send_packed_command(payload)
        failure: Exception | None = None
        for _ in range(replies):
            try:
                await connection.read_response()
            except ResponseError as error:
                failure = failure or error
        if failure is not None:
            raise failure
    except (ConnectionError, TimeoutError, asyncio.CancelledError):
        # Replies may still be on their way: this connection cannot be trusted again.
        await connection.disconnect()
        raise
    finally:
        await pool.release(connection)


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), BUILD_CHUNK):
        yield items[start : start + BUILD_CHUNK]


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
        await AssignmentQueue(target.redis, source, prefix=target.app_prefix).remove(customer_ids)
    return await target.place_sources(sources, now=now)
