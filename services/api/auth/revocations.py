"""Revocations reach every API process within a second: published on one Redis channel that
each process listens to, and dropped from its principal cache on arrival.

Pub/sub delivers at most once: while a process is not subscribed (Redis restarting, the
connection lost) it may miss a revocation, so on every (re)subscription it empties its whole
cache and reads tokens again. The cache's TTL stays as the backstop for a message lost while
the connection looked healthy.
"""

import asyncio
import contextlib
import json
import logging

from redis.asyncio import Redis

from services.api.auth.cache import PrincipalCache
from services.queue import keys

log = logging.getLogger(__name__)

CHANNEL = keys.AUTH_REVOCATIONS
# After a lost connection, wait this long before subscribing again (doubling up to the max).
RETRY_S = 0.1
MAX_RETRY_S = 5.0


async def publish_token_revoked(redis: Redis, token_id: int) -> None:
    await redis.publish(CHANNEL, json.dumps({"token_id": token_id}))


async def publish_user_changed(redis: Redis, user_id: int) -> None:
    """Permissions changed or the user was deactivated: every token of theirs is read again."""
    await redis.publish(CHANNEL, json.dumps({"user_id": user_id}))


def apply(cache: PrincipalCache, data: str) -> None:
    """Drop what one message names from the cache; an unreadable message empties it."""
    try:
        message = json.loads(data)
        if "token_id" in message:
            cache.forget_token(int(message["token_id"]))
        else:
            cache.forget_user(int(message["user_id"]))
    except (ValueError, KeyError, TypeError):
        cache.clear()


class RevocationListener:
    """One pub/sub connection per API process, applying revocations to its cache."""

    def __init__(self, redis: Redis, cache: PrincipalCache) -> None:
        self._redis = redis
        self._cache = cache
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    async def start(self, *, ready_timeout_s: float) -> None:
        """Start listening; returns once subscribed, or after `ready_timeout_s` if Redis is not
        there yet (it keeps trying in the background)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="nextcall-revocations")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ready_timeout_s):
                await self._subscribed.wait()
        if not self.subscribed:
            log.warning("revocations.not_subscribed_yet")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        pause = RETRY_S
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # Confirmed (again, after redis-py reconnected by itself): anything
                        # revoked while we were not listening is read again from the database.
                        self._cache.clear()
                        self._subscribed.set()
                        pause = RETRY_S
                    elif message["type"] == "message":
                        apply(self._cache, str(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._subscribed.clear()
                # Until subscribed again, nothing cached can be trusted to be current.
                self._cache.clear()
                log.warning("revocations.connection_lost error=%r retry_in_s=%.1f", exc, pause)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(pause)
            pause = min(MAX_RETRY_S, pause * 2)
