"""Server-sent event streams read from Redis Streams (services/queue/streams.py).

Each open stream reads with XREAD BLOCK on the process's stream client, from the client's
Last-Event-ID (or from "now"), and sends every entry as an SSE event whose id is the entry id;
when nothing comes for `keepalive_s` it sends a comment line, so proxies keep the connection
and a gone client is noticed. A process keeps at most `limit` streams open (503 above it):
each one holds a Redis connection while it waits.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from redis.asyncio import Redis
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from services.queue import streams

log = logging.getLogger(__name__)

# Tells EventSource clients how soon to reconnect after the connection drops.
RETRY_MS = 2000
# Entries sent per XREAD.
READ_COUNT = 100
# How often an open assignment stream renews its "watched" mark (which expires after 3x this).
WATCH_EVERY_S = 10.0

OnIdle = Callable[[], Awaitable[None]]


class StreamHub:
    """The SSE streams of one API process: their Redis client, and how many are open."""

    def __init__(self, redis: Redis, *, limit: int, keepalive_s: float) -> None:
        self.redis = redis
        self.limit = limit
        self.keepalive_s = keepalive_s
        self.open = 0

    def acquire(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def release(self) -> None:
        self.open -= 1


def sse(event: streams.StreamEvent) -> str:
    return f"id: {event.id}\nevent: {event.type}\ndata: {event.data}\n\n"


async def start_at(hub: StreamHub, key: str, last_event_id: str | None) -> str:
    """Where a new stream starts: after the client's last event, or after the newest entry.
    Resolved before the response starts, so whatever is added once the client has the
    headers reaches it."""
    return last_event_id or await streams.last_id(hub.redis, key)


async def event_lines(
    hub: StreamHub, key: str, *, after: str, touch: OnIdle | None = None
) -> AsyncIterator[str]:
    """The SSE text of one stream, from after the entry `after` until cancelled."""
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    cursor = after
    block_ms = max(1, int(hub.keepalive_s * 1000))
    loop = asyncio.get_running_loop()
    touched = loop.time()
    while True:
        if touch is not None and loop.time() - touched >= WATCH_EVERY_S:
            await touch()
            touched = loop.time()
        found = await streams.read(
            hub.redis, key, after=cursor, block_ms=block_ms, count=READ_COUNT
        )
        if not found:
            yield ": keep-alive\n\n"
            continue
        for event in found:
            cursor = event.id
            yield sse(event)


class EventStreamResponse(StreamingResponse):
    """text/event-stream that gives its slot back to the hub however the stream ends."""

    media_type = "text/event-stream"

    def __init__(self, lines: AsyncIterator[str], *, hub: StreamHub) -> None:
        super().__init__(
            lines,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._lines = lines
        self._hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._hub.release()
            aclose = getattr(self._lines, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:  # the stream is over either way
                    log.debug("sse.close_failed", exc_info=True)
