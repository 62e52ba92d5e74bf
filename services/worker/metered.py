"""The worker's jobs in metrics: an RQ worker that counts and times them by kind, and the
RQ queue's length read at scrape time.

Kinds are a fixed set named after the job functions (shared/jobqueue.py); a function not in
it counts as "other", so the label set cannot grow.
"""

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from redis import Redis
from rq import Queue, Worker
from rq.job import Job

from shared.infra import metrics
from shared.infra.jobqueue import BULK_JOBS, IMPORT_JOB, QueueName

REBUILD_JOB = "services.worker.jobs.rebuild.rebuild_assignment"
# Each job function's kind, one of metrics.JOB_KINDS.
KIND_OF: dict[str, str] = {
    IMPORT_JOB: "import",
    REBUILD_JOB: "rebuild",
    BULK_JOBS["move"]: "move",
    BULK_JOBS["outcome"]: "bulk_outcome",
}


def job_kind(func_name: str | None) -> str:
    return KIND_OF.get(func_name or "", metrics.OTHER)


class PromptUnsubscribe:
    """RQ's unsubscribe at the end of work(), with a bounded wait for its pub/sub thread.

    rq 3.0 unsubscribes, then stops the thread and joins it without a limit; redis-py 8's
    thread, no longer subscribed, first waits for a subscription for RQ's sleep time (60 s).
    So a stopping worker (or a burst worker's process) hung up to a minute, now and then. The
    thread is a daemon: once told to stop, nothing needs to wait for it.
    """

    pubsub: Any
    pubsub_thread: Any

    def unsubscribe(self) -> None:
        if self.pubsub_thread:
            self.pubsub.unsubscribe()
            self.pubsub_thread.stop(timeout=1)


class MeteredWorker(PromptUnsubscribe, Worker):
    """RQ's forking worker, counting jobs started, failed and retried, and timing them.

    `perform_job` runs in the work-horse; `handle_job_failure` runs there when the job raised,
    or in the worker when the work-horse died (killed, out of memory, over its time limit), so
    every failed run is counted once.
    """

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:
        kind = job_kind(job.func_name)
        metrics.JOBS_STARTED.labels(kind).inc()
        started = time.perf_counter()
        try:
            done: bool = super().perform_job(job, queue, execution)
            return done
        finally:
            metrics.JOB_DURATION.labels(kind).observe(time.perf_counter() - started)

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        retried = bool(job.should_retry) and self._stopped_job_id != job.id
        counter = metrics.JOBS_RETRIED if retried else metrics.JOBS_FAILED
        counter.labels(job_kind(job.func_name)).inc()
        super().handle_job_failure(job, queue, *args, **kwargs)


class RqQueueCollector:
    """`nextcall_rq_jobs{state}`: the RQ queue's jobs by state, read from Redis at scrape."""

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "nextcall_rq_jobs",
            "Jobs in the worker's RQ queue, by state (queued, started, scheduled, failed).",
            labels=["state"],
        )
        queue = Queue(QueueName.default, connection=self.connection)
        family.add_metric(["queued"], queue.count)
        family.add_metric(["started"], queue.started_job_registry.count)
        family.add_metric(["scheduled"], queue.scheduled_job_registry.count)
        family.add_metric(["failed"], queue.failed_job_registry.count)
        yield family
