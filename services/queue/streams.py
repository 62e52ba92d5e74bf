"""Redis Streams behind the server-sent events (docs/decisions/006-live.md).

Two kinds of stream, each trimmed to about `window` entries (the "stream window", setting
`stream_window`) and dropped a day after its last entry:

- `nc:stream:{u:<id>}`, one per user: `customer_moved_in` (into an assignment the user worked
  in the last hour), `followup_due` (the user's personal follow-up), `lease_expiring` (the
  user's current customer), `request_assigned` and `task_assigned` (the care pipeline);
- `nc:stream:{a:<id>}`, one per assignment, for supervisors: `stats` and `customer_moved_in`.

Every entry has two fields: "type" and "data" (JSON). The entry id is the SSE event id, so a
client reconnecting with Last-Event-ID reads on from there.

The keys of one assignment that feed the streams carry its hash tag (`nc:{a:<id>}:...`), like
the queue's own keys: who worked it lately (written by AssignmentQueue.claim_tracked), its
activity per minute, whether someone watches its stream, the once-only claims of its events.
"""

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from services.queue import keys
from services.queue.broadcast import queue_eligible
from services.queue.engine import WORKERS, AssignmentQueue
from services.queue.placement import Placement

# Entries a stream keeps (approximately); production reads Settings.stream_window.
DEFAULT_WINDOW = 10_000
# A stream nobody writes to any more (a user who left, an assignment closed) expires.
STREAM_TTL_MS = 24 * 3600 * 1000
# "Worked the assignment recently": claimed in it within this (the queue engine prunes older).
RECENT_WORKER_MS = 3600 * 1000
# A per-minute activity counter lives this long: the current and the previous minute.
ACTIVITY_TTL_MS = 120_000
# customer_moved_in names at most this many customers (and always the count).
MAX_IDS_PER_EVENT = 100
# A stream id as Redis writes it ("<ms>-<seq>"); "<ms>" alone is accepted too.
STREAM_ID = re.compile(r"^[0-9]{1,20}(-[0-9]{1,20})?$")


class EventType(StrEnum):
    customer_moved_in = "customer_moved_in"
    followup_due = "followup_due"
    lease_expiring = "lease_expiring"
    stats = "stats"
    # The care pipeline (docs/decisions/028-care-pipeline.md): to the manager who handles a
    # new or handed-over request now, and to a task's executor.
    request_assigned = "request_assigned"
    task_assigned = "task_assigned"
    # The dialer (docs/decisions/035-...): an answered or inbound call was bridged to the
    # user, with the customer's card leased to them.
    call_bridged = "call_bridged"


class Activity(StrEnum):
    """Per-assignment, per-minute counters the API increments and the stats report."""

    outcomes = "outcomes"
    attempts = "attempts"


@dataclass(frozen=True, slots=True)
class StreamEvent:
    id: str
    type: str
    data: str  # JSON, passed to the client as it is


def now_ms() -> int:
    return int(time.time() * 1000)


def user_stream(user_id: int) -> str:
    return f"{keys.PREFIX}:stream:{keys.user_tag(user_id)}"


def assignment_stream(assignment_id: int) -> str:
    return f"{keys.PREFIX}:stream:{keys.assignment_tag(assignment_id)}"


def _assignment_key(assignment_id: int, name: str) -> str:
    return keys.assignment_prefix(assignment_id) + name


def workers_key(assignment_id: int) -> str:
    """Sorted set: user id -> last claim (epoch ms); written by AssignmentQueue.claim_tracked."""
    return _assignment_key(assignment_id, WORKERS)


def activity_key(assignment_id: int, activity: Activity, minute: int) -> str:
    """Counter of `activity` in one minute (epoch minutes)."""
    return _assignment_key(assignment_id, f"{activity.value}:{minute}")


def watched_key(assignment_id: int) -> str:
    """Exists while someone has the assignment's stream open: the worker writes its stats."""
    return _assignment_key(assignment_id, "watched")


def once_key(assignment_id: int, what: str) -> str:
    """Claimed with SET NX by the one worker replica that writes a once-only event."""
    return _assignment_key(assignment_id, f"once:{what}")


async def watch(redis: Redis, assignment_id: int, *, ttl_ms: int) -> None:
    """Mark the assignment watched for `ttl_ms`: its stream is open somewhere."""
    await redis.set(watched_key(assignment_id), "1", px=ttl_ms)


async def is_watched(redis: Redis, assignment_id: int) -> bool:
    return bool(await redis.exists(watched_key(assignment_id)))


def claim_once(pipe: Pipeline, assignment_id: int, what: str, *, ttl_ms: int) -> None:
    """Queue the claim of a once-only event in `pipe`; its reply is true for the one replica
    that won it (SET NX PX), which then writes the event."""
    pipe.set(once_key(assignment_id, what), "1", nx=True, px=ttl_ms)


def add(
    pipe: Pipeline, key: str, event: EventType, data: Mapping[str, Any], *, window: int
) -> None:
    """Queue one entry (and the stream's expiry) in `pipe`."""
    pipe.xadd(
        key,
        {"type": event.value, "data": json.dumps(data, separators=(",", ":"))},
        maxlen=window,
        approximate=True,
    )
    pipe.pexpire(key, STREAM_TTL_MS)


def count_activity(pipe: Pipeline, assignment_id: int, activity: Activity, *, at_ms: int) -> None:
    """Queue +1 on this minute's counter of `activity` in `pipe`."""
    key = activity_key(assignment_id, activity, at_ms // 60_000)
    pipe.incr(key)
    pipe.pexpire(key, ACTIVITY_TTL_MS)


async def settle_counted(
    queue: AssignmentQueue,
    customer_id: int,
    *,
    user_id: int,
    lease_token: str,
    placement: Placement,
    activity: Activity,
    at_ms: int,
    wake: bool,
    receipt: str = "",
) -> None:
    """AssignmentQueue.settle after a holder's write (leaving its `receipt`), and in the same
    round trip: count the write for live stats and, with `wake` (its new place is one /next
    serves now), wake the agents waiting on the assignment."""
    assignment_id = queue.assignment_id

    def count_and_wake(pipe: Pipeline) -> None:
        count_activity(pipe, assignment_id, activity, at_ms=at_ms)
        if wake:
            queue_eligible(pipe, assignment_id)

    await queue.settle(
        customer_id,
        user_id=user_id,
        lease_token=lease_token,
        placement=placement,
        also=count_and_wake,
        receipt=receipt,
    )


async def activity_last_minute(
    redis: Redis, assignment_id: int, activity: Activity, *, at_ms: int
) -> int:
    """About how many in the last 60 s: this minute's count plus the previous minute's,
    weighted by the part of it still inside the window."""
    minute = at_ms // 60_000
    current, previous = await redis.mget(
        activity_key(assignment_id, activity, minute),
        activity_key(assignment_id, activity, minute - 1),
    )
    elapsed = (at_ms % 60_000) / 60_000
    return round(int(current or 0) + int(previous or 0) * (1 - elapsed))


async def recent_workers(redis: Redis, assignment_id: int, *, at_ms: int) -> list[int]:
    """Users who asked for work in this assignment within the last hour."""
    found: Any = await redis.zrangebyscore(
        workers_key(assignment_id), at_ms - RECENT_WORKER_MS, "+inf"
    )
    return [int(u) for u in found]


async def recent_claims(redis: Redis, assignment_id: int, *, at_ms: int) -> dict[int, int]:
    """The same users, each with its last request for a customer here (epoch ms): the
    supervisors' dashboard tells waiting agents from idle ones by it."""
    found: Any = await redis.zrangebyscore(
        workers_key(assignment_id), at_ms - RECENT_WORKER_MS, "+inf", withscores=True
    )
    return {int(user): int(at) for user, at in found}


async def announce_moved_in(
    redis: Redis,
    assignment_id: int,
    customer_ids: Sequence[int],
    *,
    window: int = DEFAULT_WINDOW,
) -> int:
    """`customer_moved_in` to everyone who worked the assignment in the last hour, and to the
    assignment's stream. Call it after the move is committed and placed; call
    services.queue.broadcast.publish_eligible too, to wake agents waiting in /next. Returns how many
    users were told."""
    if not customer_ids:
        return 0
    at = now_ms()
    users = await recent_workers(redis, assignment_id, at_ms=at)
    data = {
        "assignment_id": assignment_id,
        "count": len(customer_ids),
        "customer_ids": list(customer_ids[:MAX_IDS_PER_EVENT]),
    }
    async with redis.pipeline(transaction=False) as pipe:
        for key in [assignment_stream(assignment_id), *map(user_stream, users)]:
            add(pipe, key, EventType.customer_moved_in, data, window=window)
        await pipe.execute()
    return len(users)


async def tell_user(
    redis: Redis,
    user_id: int,
    event: EventType,
    data: Mapping[str, Any],
    *,
    window: int = DEFAULT_WINDOW,
) -> None:
    """One entry in the user's own stream: every API process's open `/v1/me/events` of that
    user reads it (the stream is in Redis, not in a process)."""
    async with redis.pipeline(transaction=False) as pipe:
        add(pipe, user_stream(user_id), event, data, window=window)
        await pipe.execute()


async def last_id(redis: Redis, key: str) -> str:
    """The id of the newest entry ("0-0" for an empty stream): where "from now on" starts."""
    newest = await redis.xrevrange(key, "+", "-", count=1)
    return str(newest[0][0]) if newest else "0-0"


async def read(
    redis: Redis, key: str, *, after: str, block_ms: int, count: int = 100
) -> list[StreamEvent]:
    """Entries after `after`, waiting up to `block_ms` for the first; [] when none came."""
    found: Any = await redis.xread({key: after}, count=count, block=block_ms)
    # RESP2 (shared.infra.redis.create_redis): [[key, [(id, {field: value}), ...]]]
    return [
        StreamEvent(str(entry_id), str(fields.get("type", "")), str(fields.get("data", "{}")))
        for _key, entries in found or []
        for entry_id, fields in entries
    ]
