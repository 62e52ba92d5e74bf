"""Wakes the requests of this process that wait in /next (long poll) for an assignment.

One Redis pub/sub connection per API process, whatever the number of waiting requests: it
PSUBSCRIBEs to every assignment's channel (services/queue/broadcast.py) and, for an "eligible"
message, wakes this process's waiters of that assignment through an asyncio.Event. A waiting
request holds no Redis and no database connection, only its Event.

No wake-up is lost between a waiter's claim and its wait: `Watch.arm()` takes the current
Event before the claim, so a message that arrives while the claim runs has already set it.
A message lost outright (pub/sub is at most once, e.g. while reconnecting) only delays the
waiter until its next re-check; after a reconnect every waiter is woken to look again.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from redis.asyncio import Redis

from services.queue.broadcast import EVENTS_PATTERN, eligible_assignment

log = logging.getLogger(__name__)

# After a lost connection, wait this long before subscribing again (doubling up to the max).
RETRY_S = 0.1
MAX_RETRY_S = 5.0


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
        pause = RETRY_S
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(EVENTS_PATTERN)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        # Confirmed (again, after redis-py reconnected by itself): nothing
                        # published from here on is missed, and anything may have become
                        # eligible while we were not listening.
                        self._subscribed.set()
                        pause = RETRY_S
                        self.wake_all()
                    elif message["type"] == "pmessage":
                        found = eligible_assignment(str(message["channel"]), str(message["data"]))
                        if found is not None:
                            self.messages += 1
                            self.wake(found)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._subscribed.clear()
                log.warning("waker.connection_lost error=%r retry_in_s=%.1f", exc, pause)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(pause)
            pause = min(MAX_RETRY_S, pause * 2)
