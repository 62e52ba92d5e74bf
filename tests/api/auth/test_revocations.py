"""The revocation listener: a published revocation drops its entries, and a lost
subscription empties the whole cache (pub/sub delivers at most once)."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from redis.asyncio import Redis

from services.api.auth.cache import Principal, PrincipalCache
from services.api.auth.revocations import (
    RevocationListener,
    publish_token_revoked,
    publish_user_changed,
)
from tests.chaos.redis_server import RedisServer

WITHIN_S = 1.0


def _principal(user_id: int, token_id: int) -> Principal:
    return Principal(user_id, 1, f"user {user_id}", frozenset({"reporting"}), token_id=token_id)


async def _eventually(check: Callable[[], bool]) -> bool:
    """Whether `check` holds within WITHIN_S."""
    deadline = asyncio.get_running_loop().time() + WITHIN_S
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_a_revocation_drops_only_what_it_names(server: RedisServer) -> None:
    client = Redis.from_url(server.url, decode_responses=True)
    cache = PrincipalCache()
    listener = RevocationListener(client, cache)
    await listener.start(ready_timeout_s=5)
    now = datetime.now(UTC)
    for token_id, user_id in ((1, 10), (2, 10), (3, 20), (4, 30)):
        cache.put(f"hash{token_id}", _principal(user_id, token_id), now=now)
    try:
        await publish_token_revoked(client, 3)
        await publish_user_changed(client, 10)

        assert await _eventually(lambda: cache.get("hash3") is None)
        assert await _eventually(lambda: cache.get("hash1") is None and cache.get("hash2") is None)
        assert cache.get("hash4") is not None
    finally:
        await listener.stop()
        await client.aclose()


async def test_a_lost_subscription_empties_the_cache(server: RedisServer) -> None:
    client = Redis.from_url(server.url, decode_responses=True)
    cache = PrincipalCache()
    listener = RevocationListener(client, cache)
    await listener.start(ready_timeout_s=5)
    cache.put("hash1", _principal(10, 1), now=datetime.now(UTC))
    assert cache.get("hash1") is not None
    try:
        server.kill()  # whatever is published now is lost to this process

        assert await _eventually(lambda: cache.get("hash1") is None)
        assert not listener.subscribed
    finally:
        await listener.stop()
        await client.aclose()
