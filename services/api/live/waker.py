"""Wakes the requests of this process that wait in /next (long poll) for an assignment.

One Redis pub/sub connection per API process, whatever the number of waiting requests: it
PSUBSCRIBEs to every assignment's channel (services/queue/broadcast.py) and, for an "eligible"
message, wakes this process's waiters of that assignment through an asyncio.Event. A waiting
request holds no Redis and no database connection, only its Event.

No wake-up is lost between a waiter's claim and its wait: `Watch.arm()` takes the current
Event before the claim, so a message that arrives while the claim runs has already set it.
A message lost outright (pub/sub is at most once, e.g. while reconnecting) only delays the
waiter until its next re-check; after a reconnect every waiter is woken to look again.

On a Redis Cluster the messages are sharded (services/queue/broadcast.py): the process
SSUBSCRIBEs to each assignment it has waiters of, through the cluster client's pub/sub, which
follows each channel's slot to its master (after a failover too). A channel's subscription is
confirmed after its first waiters may have claimed: the confirmation wakes them to look again,
as a reconnect does, so no wake-up is lost in between either.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub

from services.queue.broadcast import (
    EVENTS_PATTERN,
    assignment_channel,
    channel_assignment,
    eligible_assignment,
)

log = logging.getLogger(__name__)

# After a lost connection, wait this long before subscribing again (doubling up to the max).
RETRY_S = 0.1
MAX_RETRY_S = 5.0
# Sharded (cluster) listening: how long one read waits before the subscriptions are brought
# up to date with the assignments waited on; bounds how late a new waiter is subscribed.
SHARDED_POLL_S = 0.05


class Watch:
    """One request's interest in an assignment; see Waker.watch()."""

    def __init__(self, waker: "Waker", assignment_id: int) -> None:
        self._waker = waker
        self._assignment_id = assignment_id
        self._event: asyncio.Event | None = None

    def arm(self) -> None:
        """Call before each claim: any wake-up from now on ends the next wait()."""
        self._event = self._waker._event(self._assignment_id)

    async def wait(self, seconds: float) -> bool:
        """Wait for a wake-up since arm(), at most `seconds`; True if woken."""
        event = self._event
        if event is None:
            raise RuntimeError("arm() the watch before waiting")
        if event.is_set():
            return True
        waker, a = self._waker, self._assignment_id
        waker._sleeping[a] = waker._sleeping.get(a, 0) + 1
        try:
            async with asyncio.timeout(max(0.0, seconds)):
                await event.wait()
        except TimeoutError:
            return False
        finally:
            left = waker._sleeping[a] - 1
            if left:
                waker._sleeping[a] = left
            else:
                del waker._sleeping[a]
        return True


class Waker:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._events: dict[int, asyncio.Event] = {}
        self._watchers: dict[int, int] = {}
        self._sleeping: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.messages = 0  # "eligible" messages received, for tests and debugging
        # Sharded listening only: the assignments whose channel is subscribed now.
        self._channels: set[int] = set()
        # How long to wait before listening again after a lost connection.
        self._pause = RETRY_S

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    def watching(self, assignment_id: int | None = None) -> int:
        """How many requests are in a long poll (of one assignment, or of all)."""
        if assignment_id is None:
            return sum(self._watchers.values())
        return self._watchers.get(assignment_id, 0)

    def sleeping(self, assignment_id: int) -> int:
        """How many of them wait for a wake-up right now (rather than claiming)."""
        return self._sleeping.get(assignment_id, 0)

    async def start(self, *, ready_timeout_s: float = 5.0) -> None:
        """Start listening; returns once subscribed, or after `ready_timeout_s` if Redis is not
        there yet (it keeps trying in the background: requests then wake by their timers)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="nextcall-waker")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ready_timeout_s):
                await self._subscribed.wait()
        if not self.subscribed:
            log.warning("waker.not_subscribed_yet")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.wake_all()

    @contextlib.contextmanager
    def watch(self, assignment_id: int) -> Iterator[Watch]:
        """Register a waiting request for the duration of the block (cancellation included)."""
        self._watchers[assignment_id] = self._watchers.get(assignment_id, 0) + 1
        try:
            yield Watch(self, assignment_id)
        finally:
            left = self._watchers[assignment_id] - 1
            if left:
                self._watchers[assignment_id] = left
            else:
                del self._watchers[assignment_id]
                self._events.pop(assignment_id, None)

    def wake(self, assignment_id: int) -> None:
        """Wake every waiter of the assignment in this process."""
        event = self._events.pop(assignment_id, None)
        if event is not None:
            event.set()

    def wake_all(self) -> None:
        events, self._events = self._events, {}
        for event in events.values():
            event.set()

    def _event(self, assignment_id: int) -> asyncio.Event:
        event = self._events.get(assignment_id)
        if event is None:
            event = self._events[assignment_id] = asyncio.Event()
        return event

    async def _listen(self) -> None:
        """Listen on one pub/sub connection; after a lost one, again after a growing pause."""
        self._pause = RETRY_S
        while True:
            pubsub = self._redis.pubsub()
            try:
                if isinstance(pubsub, ClusterPubSub):
                    await self._read_sharded(pubsub)
                else:
                    await self._read_pattern(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._subscribed.clear()
                log.warning("waker.connection_lost error=%r retry_in_s=%.1f", exc, self._pause)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(self._pause)
            self._pause = min(MAX_RETRY_S, self._pause * 2)

    async def _read_pattern(self, pubsub: PubSub) -> None:
        """One Redis: every assignment's channel through one pattern subscription."""
        await pubsub.psubscribe(EVENTS_PATTERN)
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            if message["type"] == "psubscribe":
                # Confirmed (again, after redis-py reconnected by itself): nothing published
                # from here on is missed, and anything may have become eligible meanwhile.
                self._subscribed.set()
                self._pause = RETRY_S
                self.wake_all()
            elif message["type"] == "pmessage":
                self._eligible(str(message["channel"]), str(message["data"]))

    async def _read_sharded(self, pubsub: ClusterPubSub) -> None:
        """A cluster: SSUBSCRIBE to the channel of each assignment waited on here, SUNSUBSCRIBE
        when its last waiter left."""
        self._channels = set()
        # Every subscription is new: anything may have become eligible meanwhile.
        self.wake_all()
        self._subscribed.set()
        while True:
            await self._follow_watchers(pubsub)
            message = await pubsub.get_sharded_message(timeout=SHARDED_POLL_S)
            if message is None:
                continue
            self._pause = RETRY_S
            if message["type"] == "ssubscribe":
                subscribed = channel_assignment(str(message["channel"]))
                if subscribed is not None:
                    self.wake(subscribed)
            elif message["type"] == "smessage":
                self._eligible(str(message["channel"]), str(message["data"]))

    def _eligible(self, channel: str, data: str) -> None:
        found = eligible_assignment(channel, data)
        if found is not None:
            self.messages += 1
            self.wake(found)

    async def _follow_watchers(self, pubsub: ClusterPubSub) -> None:
        wanted = set(self._watchers)
        for assignment_id in sorted(wanted - self._channels):
            await pubsub.ssubscribe(assignment_channel(assignment_id))
            self._channels.add(assignment_id)
        for assignment_id in sorted(self._channels - wanted):
            await pubsub.sunsubscribe(assignment_channel(assignment_id))
            self._channels.discard(assignment_id)
