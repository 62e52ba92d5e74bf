"""Rate limits kept in Redis, so that every API process and replica counts the same requests.

The counting is the `limits` package's moving window (a Lua script per check, exact: no burst
at a window's edge), on the API's own Redis connection pool. A limiter that cannot reach Redis
lets requests through: a rate limit protects the service, it must not stop it.
"""

import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.queue import keys
from shared.errors import TooManyRequests
from shared.infra.redis import cluster_seeds
from shared.infra.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = keys.RATE_LIMITS


class Expensive(StrEnum):
    """The endpoints that cost the database most, each with its own budget per token."""

    search = "search"
    exports = "exports"
    imports = "imports"


@dataclass(frozen=True)
class Limits:
    """The configured limits, parsed once."""

    auth_per_address: list[RateLimitItem]
    auth_per_token: list[RateLimitItem]
    per_token: dict[Expensive, list[RateLimitItem]]
    expensive_per_address: list[RateLimitItem]

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(
            auth_per_address=parse_many(settings.rate_limit_auth_failures_per_address),
            auth_per_token=parse_many(settings.rate_limit_auth_failures_per_token),
            per_token={
                Expensive.search: parse_many(settings.rate_limit_search),
                Expensive.exports: parse_many(settings.rate_limit_exports),
                Expensive.imports: parse_many(settings.rate_limit_imports),
            },
            expensive_per_address=parse_many(settings.rate_limit_expensive_per_address),
        )


def _storage(redis: Redis, settings: Settings) -> Storage:
    """The API's own connection pool for one Redis; on a Redis Cluster, `limits`' cluster
    storage (its own client: each check's script touches one key, so any slot will do)."""
    seeds = cluster_seeds(settings.redis_url)
    if seeds is None:
        return RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=KEY_PREFIX,
            # Its own pool otherwise; `options` is typed for scalars only.
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
    auth = ""
    if seeds.password:
        auth = f"{quote(seeds.username or '')}:{quote(seeds.password)}@"
    nodes = ",".join(f"{host}:{port}" for host, port in seeds.nodes)
    return RedisClusterStorage(
        f"async+redis+cluster://{auth}{nodes}",
        implementation="redispy",
        key_prefix=KEY_PREFIX,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_socket_timeout_s,
        ssl=seeds.tls,
    )


class RateLimiter:
    def __init__(self, redis: Redis, limits: Limits, settings: Settings) -> None:
        self._window = MovingWindowRateLimiter(_storage(redis, settings))
        self.limits = limits

    async def auth_refused(self, *, address: str, token_hash: str | None) -> None:
        """Raise TooManyRequests if the address, or the token, failed too often lately."""
        wait = await self._wait(self.limits.auth_per_address, "auth", "address", address)
        if wait is None and token_hash is not None:
            wait = await self._wait(self.limits.auth_per_token, "auth", "token", token_hash)
        if wait is not None:
            raise TooManyRequests("too many failed authentications", retry_after_s=wait)

    async def auth_failed(self, *, address: str, token_hash: str | None) -> None:
        await self._hit(self.limits.auth_per_address, "auth", "address", address)
        if token_hash is not None:
            await self._hit(self.limits.auth_per_token, "auth", "token", token_hash)

    async def spend(self, kind: Expensive, *, address: str, token_hash: str | None) -> None:
        """Count one expensive request; raise TooManyRequests when it passes a limit."""
        wait = await self._hit(self.limits.expensive_per_address, "expensive", "address", address)
        if wait is None and token_hash is not None:
            wait = await self._hit(self.limits.per_token[kind], kind.value, "token", token_hash)
        if wait is not None:
            raise TooManyRequests(f"too many {kind.value} requests", retry_after_s=wait)

    async def _wait(self, items: list[RateLimitItem], *key: str) -> int | None:
        """Seconds until one more is allowed; None while within every limit (counts nothing)."""
        return await self._over(items, key, count=False)

    async def _hit(self, items: list[RateLimitItem], *key: str) -> int | None:
        """Count one; seconds to wait when that passed a limit (then it is not counted)."""
        return await self._over(items, key, count=True)

    async def _over(
        self, items: list[RateLimitItem], key: tuple[str, ...], *, count: bool
    ) -> int | None:
        check = self._window.hit if count else self._window.test
        try:
            for item in items:
                if not await check(item, *key):
                    return await self._retry_after(item, *key)
        except RedisError as exc:
            log.warning("ratelimit.unavailable error=%r", exc)
        return None

    async def _retry_after(self, item: RateLimitItem, *key: str) -> int:
        stats = await self._window.get_window_stats(item, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))
