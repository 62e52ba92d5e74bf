"""The synchronous Redis connection RQ needs (RQ stores bytes: no decode_responses)."""

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

from shared.redis import embedded_redis_url
from shared.settings import Settings


def create_rq_connection(settings: Settings, *, process_name: str) -> Redis:
    """Like shared.redis.create_redis, but synchronous and without a read timeout: a worker
    blocks on BLPOP for new jobs, longer than any request would wait."""
    return Redis.from_url(
        settings.redis_url or embedded_redis_url(settings),
        client_name=f"nextcall-{process_name}",
        socket_connect_timeout=settings.redis_socket_timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=3),
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=30,
    )
