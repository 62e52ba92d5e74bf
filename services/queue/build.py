"""A rebuild's queue: written from scratch under fresh keys, then swapped in whole."""

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError, ResponseError, SlotNotCoveredError, TimeoutError

from services.queue.engine import AssignmentQueue
from services.queue.placement import Entry, FreeByBucket, PlacementSource, compute_placement

_T = TypeVar("_T")

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
        return self.queue._key(BUILD + name)

    async def start(self) -> None:
        """Drop what an interrupted build left behind."""
        async for key in self.queue._scan(BUILD):
            await self.queue.redis.unlink(key)

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
        await _send(self.queue.redis, self.queue.home_key, text.encode(), len(commands))
        self.names.update(names)
        self.placed += count
        return count

    async def swap(self) -> int:
        """Replace the queue by the build (leases stay); returns how many were placed."""
        pairs = [k for name in sorted(self.names) for k in (self._key(name), self.queue._key(name))]
        await self.queue._scripts.run("swap", (*self.queue.fixed_keys, *pairs), [])
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
    # A follow-up's zone is a bucket too (common.lua's add_to_home): calling rules see it.
    registries["buckets"] = {
        f"{e[2]}|{e[1].split('|', 3)[2]}" for e in entries if e[3].startswith(("sfu:", "pfu:"))
    }
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
    # A registry with nothing to register (every customer parked: all written) is not
    # written, so it is not named: the swap renames each name, and fails on a missing key.
    return commands, {"home", *by_structure, *(r for r, values in registries.items() if values)}


def _utf8_len(text: str) -> int:
    return len(text.encode())


async def _send(redis: Redis, key: str, payload: bytes, replies: int) -> None:
    """Send packed commands in one write, then read every reply: no transaction, no script.

    On a Redis Cluster, on a connection to the node that serves `key`'s slot (the commands'
    keys share its hash tag). An error reply raises after every reply was read, so the
    connection stays usable.
    """
    pool: Any
    if isinstance(redis, RedisCluster):
        node = redis.get_node_from_key(key)
        if node is None:
            raise SlotNotCoveredError(f"no node serves {key}")
        pool = _NodePool(node)
    else:
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


class _NodePool:
    """One cluster node's connections, with a connection pool's two calls."""

    def __init__(self, node: ClusterNode) -> None:
        self._node = node

    async def get_connection(self) -> Connection:
        return self._node.acquire_connection()

    async def release(self, connection: Connection) -> None:
        self._node.release(connection)


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), BUILD_CHUNK):
        yield items[start : start + BUILD_CHUNK]
