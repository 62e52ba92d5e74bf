"""The worker process: an RQ worker in the main thread, the scheduler tick in a thread.

Start it through `nextcall worker`, which sets up prometheus_client's multiprocess mode before
any metric exists: RQ forks a work-horse for every job, and all of them record into one
directory that /metrics (or the worker's own metrics port) aggregates.
"""

import asyncio
import logging
import os
import threading

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from rq import Queue, Worker

from services.worker.abandoned import AbandonedJobs
from services.worker.scheduler import FORK_GUARD, Scheduler
from shared.db import create_engine, create_sessionmaker
from shared.jobqueue import QueueName, rq_connection
from shared.redis import create_redis
from shared.settings import Settings

log = logging.getLogger(__name__)

# How long a stopping worker waits for the scheduler thread to finish its tick.
SCHEDULER_JOIN_S = 10.0

_fork_guard_installed = False


def run_worker(settings: Settings, *, burst: bool = False, metrics_port: int | None = None) -> bool:
    """Run until SIGINT/SIGTERM (RQ's warm shutdown) or, with `burst`, until the queue is empty.

    Returns whether any job ran.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _install_fork_guard()
    if metrics_port:
        _serve_metrics(metrics_port)
    stop = threading.Event()
    thread = threading.Thread(
        target=_scheduler_thread, args=(settings, stop), name="nextcall-scheduler", daemon=True
    )
    thread.start()
    connection = rq_connection(settings, process_name="worker")
    try:
        queue = Queue(QueueName.default, connection=connection)
        worker = Worker([queue], connection=connection)
        # RQ's own scheduler runs delayed jobs and retries with intervals.
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()
        thread.join(timeout=SCHEDULER_JOIN_S)
        connection.close()


def _scheduler_thread(settings: Settings, stop: threading.Event) -> None:
    """Its own event loop, engine and Redis client: nothing is shared with RQ's thread."""
    try:
        asyncio.run(_run_scheduler(settings, stop))
    except Exception:
        log.exception("scheduler.crashed")


async def _run_scheduler(settings: Settings, stop: threading.Event) -> None:
    engine = create_engine(settings, process_name="scheduler")
    redis = create_redis(settings, process_name="scheduler")
    sessionmaker = create_sessionmaker(engine)
    try:
        scheduler = Scheduler(
            sessionmaker=sessionmaker,
            redis=redis,
            stream_window=settings.stream_window,
            stats_interval_s=settings.live_stats_interval_s,
            lease_warning_s=settings.lease_warning_s,
            abandoned=AbandonedJobs(
                engine=engine, sessionmaker=sessionmaker, redis=redis, settings=settings
            ),
        )
        await scheduler.run(interval_s=settings.scheduler_interval_s, stop=stop)
    finally:
        await redis.aclose()
        await engine.dispose()


def _install_fork_guard() -> None:
    """Hold the scheduler's metric guard across fork(), so no child inherits it held."""
    global _fork_guard_installed
    if not _fork_guard_installed:
        os.register_at_fork(
            before=FORK_GUARD.acquire,
            after_in_parent=FORK_GUARD.release,
            after_in_child=FORK_GUARD.release,
        )
        _fork_guard_installed = True


def _serve_metrics(port: int) -> None:
    """A /metrics of the worker's own, for deployments where no API shares its directory."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        start_http_server(port, registry=registry)
    else:
        start_http_server(port)
    log.info("worker.metrics_serving port=%d", port)
