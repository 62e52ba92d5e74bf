"""What the API process creates at start and disposes of at shutdown, typed."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.api.assignments.cache import AssignmentCache
from services.api.auth.cache import PrincipalCache
from services.api.dashboard.memo import Memo
from services.api.live.events import StreamHub
from services.api.live.waker import Waker
from services.api.ratelimit.limiter import RateLimiter
from shared.infra.clock import Clock, utc_now
from shared.infra.db import unit_of_work
from shared.infra.settings import Settings
from shared.membership.store import MembershipStore
from shared.webhooks.outbox import Subscriptions


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    assignments: AssignmentCache
    # Wakes this process's long polls of /next: one pub/sub connection for all of them.
    waker: Waker
    # Server-sent event streams: their own Redis client (reads block), and their bound.
    streams: StreamHub
    # The hot statements (card, versioned write), for the configured database.
    store: MembershipStore
    # Rate limits counted in Redis, shared by every API process (services/api/ratelimit).
    limiter: RateLimiter
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    # The supervisors' dashboard: figures shared by its viewers for a few seconds.
    dashboard: Memo = field(default_factory=Memo)
    # Which webhook types each tenant subscribes to (the outcome path asks on every write).
    webhooks: Subscriptions = field(default_factory=lambda: Subscriptions(ttl_s=5.0))
    # The time /next serves at (calling rules); tests set it to a given instant.
    clock: Clock = utc_now

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back when it raises."""
        async with unit_of_work(self.sessionmaker) as session:
            yield session
