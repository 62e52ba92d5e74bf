"""The one Redis client factory, and the embedded server of the default set-up.

`NEXTCALL_REDIS_URL` names one Redis or a Redis Cluster (`redis+cluster://host:port[,...]`, or
seed nodes separated by commas; docs/decisions/030-redis-cluster-and-faults.md). A cluster
client is handed out typed as `Redis`: it offers every command nextcall sends under the same
name and signature, routed by key slot (each assignment's keys share one hash tag, so one
slot), and the queue engine's tests run on both. The few places that differ ask `is_cluster`.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from shared.infra.settings import Settings, is_cluster_url


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
    commands block on purpose (XREAD BLOCK) longer than a request may wait. A cluster URL
    gives a cluster client (see the module's docstring); `max_connections` is then per node.
    """
    target = url or settings.redis_url or embedded_redis_url(settings)
    options: dict[str, Any] = {
        "decode_responses": True,
        "client_name": f"nextcall-{process_name}",
        "socket_timeout": socket_timeout_s or settings.redis_socket_timeout_s,
        "socket_connect_timeout": settings.redis_socket_timeout_s,
        "max_connections": max_connections or settings.redis_max_connections,
        "retry": CountingRetry(
            ExponentialBackoff(cap=0.5, base=0.02), retries=3, client=process_name
        ),
        "health_check_interval": 30,
    }
    seeds = cluster_seeds(target)
    if seeds is None:
        return Redis.from_url(target, retry_on_error=[ConnectionError, TimeoutError], **options)
    cluster = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in seeds.nodes],
        username=seeds.username,
        password=seeds.password,
        ssl=seeds.tls,
        **options,
    )
    return cast(Redis, cluster)


@dataclass(frozen=True)
class ClusterSeeds:
    nodes: list[tuple[str, int]]
    username: str | None = None
    password: str | None = None
    tls: bool = False


def cluster_seeds(url: str) -> ClusterSeeds | None:
    """The seed nodes of a cluster URL (`redis+cluster://[user:password@]host:port,...`, or
    `redis://host:port,host:port`); None for one Redis."""
    if not is_cluster_url(url):
        return None
    scheme, _, rest = url.rpartition("://")
    credentials, _, hosts = rest.rpartition("@")
    nodes = []
    for part in hosts.split(","):
        address = part.strip().split("/", 1)[0]
        if address:
            host, _, port = address.rpartition(":") if ":" in address else (address, "", "6379")
            nodes.append((host, int(port)))
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    return ClusterSeeds(
        nodes=nodes,
        username=unquote(username) or None,
        password=unquote(password) or None,
        tls=scheme.startswith("rediss"),
    )


def is_cluster(redis: Redis) -> bool:
    return isinstance(redis, RedisCluster)


def as_cluster(redis: Redis) -> RedisCluster | None:
    """The same client typed as what it is, where a cluster needs its own calls."""
    return redis if isinstance(redis, RedisCluster) else None


def embedded_socket_path(settings: Settings) -> Path:
    return (settings.data_dir / "redis.sock").resolve()


def embedded_redis_url(settings: Settings) -> str:
    return f"unix://{embedded_socket_path(settings)}"
