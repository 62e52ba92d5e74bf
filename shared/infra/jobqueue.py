"""The RQ queue every process shares: its name, its connection, and how jobs are enqueued.

The API enqueues jobs by their import path (it never imports the worker, DESIGN 4); the
worker listens on the same queue name.
"""

import uuid
from enum import StrEnum

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry
from rq import Queue

from shared.infra.redis import embedded_redis_url
from shared.infra.settings import Settings

# How long RQ keeps a finished job's record; the job's own row (import, bulk job) stays.
RESULT_TTL_S = 24 * 3600
FAILURE_TTL_S = 7 * 24 * 3600


class QueueName(StrEnum):
    default = "nextcall"


def rq_connection(settings: Settings, *, process_name: str) -> Redis:
    """A synchronous client as RQ needs it: bytes, not decoded strings, and no read timeout
    (a worker blocks on BLPOP for new jobs longer than any request would wait). On the jobs'
    own Redis when one is set: RQ cannot run on a Redis Cluster (decision 030)."""
    return Redis.from_url(
        settings.jobs_redis_url or settings.redis_url or embedded_redis_url(settings),
        client_name=f"nextcall-{process_name}",
        socket_connect_timeout=settings.redis_socket_timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=3),
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=30,
    )


def enqueue(
    settings: Settings,
    func_path: str,
    *,
    args: tuple[object, ...],
    job_id: str,
    timeout_s: int,
    description: str,
    process_name: str = "api",
) -> str:
    """Queue a job (blocking: call it from a thread); a fixed job id keeps one job per task."""
    with rq_connection(settings, process_name=process_name) as connection:
        job = Queue(QueueName.default, connection=connection).enqueue_call(
            func_path,
            args=args,
            timeout=timeout_s,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
            job_id=job_id,
            description=description,
        )
        return str(job.id)


# The worker's jobs that the API queues and the worker's sweep of abandoned jobs queues again
# (services/worker/jobs), by these names and ids.
IMPORT_JOB = "services.worker.jobs.imports.run_import"


def import_rq_id(import_id: int) -> str:
    """One RQ job per import: queuing it twice keeps one."""
    return f"import-{import_id}"


REGISTER_IMPORT_JOB = "services.worker.jobs.registers.run_register_import"
# A million numbers read, written and every queue of the tenant rebuilt: minutes at most.
REGISTER_IMPORT_TIMEOUT_S = 3600


def enqueue_register_import(settings: Settings, import_id: int) -> str:
    """Queue a register extract's import (blocking: call it from a thread); one job per import."""
    return enqueue(
        settings,
        REGISTER_IMPORT_JOB,
        args=(import_id,),
        job_id=f"register-import-{import_id}",
        timeout_s=REGISTER_IMPORT_TIMEOUT_S,
        description=f"registers.import import_id={import_id}",
    )


def enqueue_tenant_rebuild(settings: Settings, tenant_id: int) -> str:
    """Queue the rebuild of every active queue of a tenant (a register was removed)."""
    return enqueue(
        settings,
        "services.worker.jobs.registers.run_tenant_rebuild",
        args=(tenant_id,),
        job_id=f"tenant-rebuild-{tenant_id}-{uuid.uuid4().hex[:8]}",
        timeout_s=REGISTER_IMPORT_TIMEOUT_S,
        description=f"registers.rebuild tenant_id={tenant_id}",
    )


BULK_JOBS: dict[str, str] = {
    "move": "services.worker.jobs.moves.run_move",
    "outcome": "services.worker.jobs.outcomes.run_bulk_outcome",
}
BULK_JOB_TIMEOUT_S = 3600


def bulk_rq_id(bulk_job_id: int) -> str:
    """One RQ job per bulk job: queuing it twice keeps one."""
    return f"bulk-{bulk_job_id}"


def enqueue_bulk(
    settings: Settings, kind: str, bulk_job_id: int, *, process_name: str = "api"
) -> str:
    return enqueue(
        settings,
        BULK_JOBS[kind],
        args=(bulk_job_id,),
        job_id=bulk_rq_id(bulk_job_id),
        timeout_s=BULK_JOB_TIMEOUT_S,
        description=f"{kind} bulk_job_id={bulk_job_id}",
        process_name=process_name,
    )
