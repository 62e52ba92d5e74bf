"""Redis pub/sub messages that wake agents waiting for a customer (long polls of /next).

Whoever may have made a customer servable publishes "eligible" on the assignment's channel:
the worker's sweep, the API after a release, attempt, outcome or follow-up change, imports and
moves. Every API process listens on one connection (services/api/live/waker.py) and wakes its
own waiting requests. The channel, `nc:events:{a:<id>}`, carries the assignment's hash tag, so
on Redis Cluster it lives with the queue's keys. Pub/sub is at most once: a lost message only
delays a waiting agent until its next re-check, never loses a customer (the queue is the truth).
"""

import json

from redis.asyncio import Redis

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
    await redis.publish(assignment_channel(assignment_id), eligible_message(assignment_id))


def eligible_assignment(channel: str, data: str) -> int | None:
    """The assignment an "eligible" message is about; None for anything else."""
    head, tail = channel[: len(_TAGGED)], channel[len(_TAGGED) : -1]
    if head != _TAGGED or not channel.endswith("}"):
        return None
    try:
        message = json.loads(data)
        if not isinstance(message, dict) or message.get("type") != ELIGIBLE:
            return None
        return int(tail)
    except ValueError:
        return None
