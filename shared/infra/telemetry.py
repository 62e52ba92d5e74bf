"""Pools and the process itself, sampled into metrics every few seconds.

In multiprocess mode a scrape is answered by one process, which can read only its own pools
and /proc entry. So each long-lived process (every API process, the worker's scheduler
process) writes its samples into the shared metric files instead, as gauges summed over the
live processes, and CPU time as a counter. Work-horses are short-lived and sample nothing.

Errors are counted where they happen: the engine's `handle_error` event (shared/infra/db.py), the
direct pool's statements (shared/infra/directdb.py), and every Redis connection error or timeout
the client's retry sees (shared/infra/redis.py).
"""

import asyncio
import os
import threading
from typing import Any

from prometheus_client import ProcessCollector
from redis.asyncio import Redis, RedisCluster
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.infra import metrics
from shared.infra.directdb import DirectPool
from shared.infra.redis import as_cluster

# How often a process samples its pools and itself.
SAMPLE_INTERVAL_S = 5.0


class Sampler:
    """Samples the pools it was given, and this process, into the metrics."""

    def __init__(
        self,
        *,
        engine: AsyncEngine | None = None,
        redis: dict[str, Redis] | None = None,
        direct: DirectPool | None = None,
    ) -> None:
        self.engine = engine
        self.redis = redis or {}
        self.direct = direct
        self._process = ProcessCollector(registry=None)
        self._cpu = 0.0

    def sample(self) -> None:
        self._sample_engine()
        self._sample_redis()
        self._sample_direct()
        self._sample_process()

    def _sample_engine(self) -> None:
        pool: Any = self.engine.pool if self.engine is not None else None
        if pool is None or not hasattr(pool, "checkedout"):
            return  # SQLite's pools keep no counts
        metrics.DB_POOL.labels("engine", "in_use").set(pool.checkedout())
        metrics.DB_POOL.labels("engine", "idle").set(pool.checkedin())
        metrics.DB_POOL.labels("engine", "max").set(pool.size() + max(0, pool._max_overflow))

    def _sample_direct(self) -> None:
        if self.direct is None:
            return
        in_use, idle = self.direct.counts()
        metrics.DB_POOL.labels("direct", "in_use").set(in_use)
        metrics.DB_POOL.labels("direct", "idle").set(idle)
        metrics.DB_POOL.labels("direct", "max").set(self.direct.size)

    def _sample_redis(self) -> None:
        for client, redis in self.redis.items():
            cluster = as_cluster(redis)
            in_use, idle, most = _cluster_pool(cluster) if cluster else _pool(redis)
            metrics.REDIS_POOL.labels(client, "in_use").set(in_use)
            metrics.REDIS_POOL.labels(client, "idle").set(idle)
            metrics.REDIS_POOL.labels(client, "max").set(most)

    def _sample_process(self) -> None:
        values = {s.name: s.value for family in self._process.collect() for s in family.samples}
        metrics.PROCESSES.set(1)
        if "process_resident_memory_bytes" in values:
            metrics.PROCESS_MEMORY.set(values["process_resident_memory_bytes"])
        if "process_open_fds" in values:
            metrics.PROCESS_FDS.set(values["process_open_fds"])
        if "process_start_time_seconds" in values:
            metrics.PROCESS_START.set(values["process_start_time_seconds"])
        cpu = values.get("process_cpu_seconds_total", self._cpu)
        if cpu > self._cpu:
            metrics.PROCESS_CPU.inc(cpu - self._cpu)
            self._cpu = cpu

    async def run(self, stop: asyncio.Event | threading.Event, interval_s: float) -> None:
        """Sample now and every `interval_s` until `stop` is set."""
        while not stop.is_set():
            self.sample()
            await asyncio.sleep(interval_s)


def process_gone() -> None:
    """Drop this process's gauges from the sums (a clean exit; a killed process's stay)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), directory)


def _pool(redis: Redis) -> tuple[int, int, int]:
    """In use, idle and most connections of one client's pool."""
    pool = redis.connection_pool
    idle = in_use = 0
    for count, attributes in pool.get_connection_count():
        if "idle" in str(attributes.values()).lower():
            idle += count
        else:
            in_use += count
    return in_use, idle, getattr(pool, "max_connections", 0)


def _cluster_pool(cluster: RedisCluster) -> tuple[int, int, int]:
    """The same, summed over the nodes of a cluster client (each node has its own pool;
    redis-py keeps their counts in the nodes' lists of connections)."""
    in_use = idle = most = 0
    for node in cluster.get_nodes():
        free = len(node._free)
        idle += free
        in_use += len(node._connections) - free
        most += node.max_connections
    return in_use, idle, most
