"""Which Redis the queues were last rebuilt in (docs/decisions/015-redis-restart-recovery.md)."""

from typing import Any

from redis.asyncio import Redis, RedisCluster

from services.queue import keys
from shared.infra.redis import as_cluster


async def server_run(redis: Redis) -> tuple[str, int]:
    """Redis's run id (new at every start) and how many seconds it has been up.

    On a Redis Cluster, the run ids of every master together, and the youngest one's uptime:
    a master that restarted empty, or a replica that took over, changes it, and every queue
    is rebuilt (a rebuild keeps leases, and costs a few seconds per million customers).
    """
    cluster = as_cluster(redis)
    if cluster is None:
        info: dict[str, Any] = await redis.info("server")
        return str(info["run_id"]), int(info["uptime_in_seconds"])
    by_node: dict[str, dict[str, Any]] = await cluster.info(
        "server", target_nodes=RedisCluster.PRIMARIES
    )
    run_ids = ",".join(sorted(str(i["run_id"]) for i in by_node.values()))
    return run_ids, min(int(i["uptime_in_seconds"]) for i in by_node.values())


async def queues_trusted(redis: Redis) -> bool:
    """Whether the queues were rebuilt in the Redis running now (or it kept them since)."""
    run_id, _ = await server_run(redis)
    return bool(await redis.get(keys.QUEUES_EPOCH) == run_id)
