"""The worker: RQ in a process of no other threads, the scheduler tick in a process of its own.

RQ forks a work horse for every job. A fork copies the whole memory but only the forking
thread, so a lock that another thread held at that moment stays held in the horse forever
(SQLAlchemy's mapper-configuration mutex, logging's, a connection pool's). The worker's
process therefore runs no thread besides RQ's: the scheduler tick and the metrics port live in
a second process, started with the "spawn" method (a fresh interpreter, no inherited state),
docs/decisions/022-worker-processes.md.

Nothing outlives the worker: every process it forks (RQ's horses and RQ's own scheduler) is
killed by the kernel when the worker dies (Linux's parent-death signal), and the scheduler
process stops when its pipe to the worker closes, which the kernel does when the worker dies.

Start it through `nextcall worker`, which sets up prometheus_client's multiprocess mode before
any metric exists, so that all of these processes record into one directory that /metrics (or
the worker's own metrics port) aggregates.
"""

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import httpx
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from rq import Queue

from services.worker.abandoned import AbandonedJobs
from services.worker.lifetime import die_with_parent, forked_children_die_with_parent
from services.worker.metered import MeteredWorker, RqQueueCollector
from services.worker.scheduler import Scheduler
from services.worker.webhooks import Deliverer
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.jobqueue import QueueName, rq_connection
from shared.infra.logs import configure_logging
from shared.infra.redis import create_redis
from shared.infra.settings import Settings
from shared.infra.telemetry import SAMPLE_INTERVAL_S, Sampler, process_gone

log = logging.getLogger(__name__)

# How long a stopping worker waits for the scheduler process to finish its tick.
SCHEDULER_STOP_S = 10.0
SCHEDULER_PROCESS_NAME = "nextcall-scheduler"


def run_worker(settings: Settings, *, burst: bool = False, metrics_port: int | None = None) -> bool:
    """Run until SIGINT/SIGTERM (RQ's warm shutdown) or, with `burst`, until the queue is empty.

    Returns whether any job ran.
    """
    configure_logging(settings.log_format_in_use(), level=settings.log_level)
    forked_children_die_with_parent()
    scheduler = _SchedulerProcess.start(settings, metrics_port)
    connection = rq_connection(settings, process_name="worker")
    try:
        queue = Queue(QueueName.default, connection=connection)
        worker = MeteredWorker([queue], connection=connection)
        # RQ's own scheduler runs delayed jobs and retries with intervals.
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        scheduler.stop()
        connection.close()


class _SchedulerProcess:
    """The scheduler tick in a spawned process, told to stop through a pipe."""

    def __init__(self, process: BaseProcess, stop_pipe: Connection) -> None:
        self.process = process
        self.stop_pipe = stop_pipe

    @classmethod
    def start(cls, settings: Settings, metrics_port: int | None) -> "_SchedulerProcess":
        context = multiprocessing.get_context("spawn")
        theirs, ours = context.Pipe(duplex=False)
        process = context.Process(
            target=_scheduler_main,
            args=(settings, theirs, metrics_port, os.getpid()),
            name=SCHEDULER_PROCESS_NAME,
            daemon=True,
        )
        process.start()
        # Only the child may hold the reading end: when the worker dies, the kernel closes the
        # writing end and the child reads end-of-file.
        theirs.close()
        return cls(process, ours)

    def stop(self) -> None:
        self.stop_pipe.close()
        self.process.join(timeout=SCHEDULER_STOP_S)
        if self.process.is_alive():
            log.warning("scheduler.stop_timeout seconds=%s", SCHEDULER_STOP_S)
            self.process.kill()
            self.process.join()


def _scheduler_main(
    settings: Settings, stop_pipe: Connection, metrics_port: int | None, worker_pid: int
) -> None:
    """The scheduler process: ticks until the worker closes the pipe, or dies."""
    die_with_parent(worker_pid)
    configure_logging(settings.log_format_in_use(), level=settings.log_level)
    stop = threading.Event()
    # Ctrl-C reaches the whole process group: the worker decides when the scheduler stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A service manager may signal every process of the worker: finish the tick, then stop.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: stop.set())
    threading.Thread(
        target=_stop_on_close, args=(stop_pipe, stop), name="stop-pipe", daemon=True
    ).start()
    if metrics_port:
        _serve_metrics(metrics_port, settings)
    try:
        asyncio.run(_run_scheduler(settings, stop))
    except Exception:
        log.exception("scheduler.crashed")
        raise
    finally:
        process_gone()


def _stop_on_close(stop_pipe: Connection, stop: threading.Event) -> None:
    with contextlib.suppress(EOFError, OSError):
        while True:
            stop_pipe.recv()
    stop.set()


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
        # This process's pools and the process itself, every few seconds.
        sampler = Sampler(engine=engine, redis={"scheduler": redis})
        sampling = asyncio.create_task(sampler.run(stop, SAMPLE_INTERVAL_S))
        # Webhooks are sent beside the ticks (services/worker/webhooks.py); redirects are
        # not followed: a receiver could point them at the deployment's own services.
        client = httpx.AsyncClient(follow_redirects=False)
        deliverer = Deliverer.for_settings(settings, sessionmaker=sessionmaker, client=client)
        delivering = asyncio.create_task(
            deliverer.run(interval_s=settings.webhook_poll_interval_s, stop=stop)
        )
        try:
            await scheduler.run(interval_s=settings.scheduler_interval_s, stop=stop)
        finally:
            for task in (sampling, delivering):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.aclose()
    finally:
        await redis.aclose()
        await engine.dispose()


def _serve_metrics(port: int, settings: Settings) -> None:
    """The worker's own /metrics: what its processes recorded (the scheduler, RQ's work
    horses) and the RQ queue; scraped as the job nextcall-worker
    (deploy/prometheus/prometheus.yml)."""
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    registry.register(RqQueueCollector(rq_connection(settings, process_name="worker-metrics")))
    start_http_server(port, registry=registry)
    log.info("worker.metrics_serving port=%d", port)
