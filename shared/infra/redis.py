"""The one Redis client factory, and the embedded server of the default set-up."""

from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from shared.infra.settings import Settings


class CountingRetry(Retry):
    """redis-py's retry, counting every connection error and timeout it sees, by client."""

    def __init__(self, *args: Any, client: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    async def call_with_retry(self, do: Any, fail: Any, *args: Any, **kwargs: Any) -> Any:
        def counted(error: Exception, *rest: Any) -> Any:
            # Imported here, not with this module: `nextcall` imports this module before it
            # sets up prometheus_client's multiprocess mode, which the first import fixes.
            from shared.infra import metrics

            metrics.REDIS_ERRORS.labels(self.client).inc()
            return fail(error, *rest)

        return await super().call_with_retry(do, counted, *args, **kwargs)


def create_redis(
    settings: Settings,
    *,
    process_name: str,
    url: str | None = None,
    socket_timeout_s: float | None = None,
    max_connections: int | None = None,
) -> Redis:
    """A client that names itself (visible in CLIENT LIST), times out and retries briefly.

    `socket_timeout_s` and `max_connections` override the settings, for a client whose
    commands block on purpose (XREAD BLOCK) longer than a request may wait.
    """
    return Redis.from_url(
        url or settings.redis_url or embedded_redis_url(settings),
        decode_responses=True,
        client_name=f"nextcall-{process_name}",
        socket_timeout=socket_timeout_s or settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_socket_timeout_s,
        max_connections=max_connections or settings.redis_max_connections,
        retry=CountingRetry(ExponentialBackoff(cap=0.5, base=0.02), retries=3, client=process_name),
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=30,
    )


def embedded_socket_path(settings: Settings) -> Path:
    return (settings.data_dir / "redis.sock").resolve()


def embedded_redis_url(settings: Settings) -> str:
    return f"unix://{embedded_socket_path(settings)}"
