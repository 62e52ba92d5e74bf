"""Handing a large import to the worker through RQ.

The API does not import the worker (DESIGN 4): the job is named by its import path, and the
queue name is the worker's QueueName.default, repeated here (a test keeps the two equal).
"""

from redis import Redis
from rq import Queue

from shared.redis import embedded_redis_url
from shared.settings import Settings

QUEUE_NAME = "nextcall"
IMPORT_JOB = "services.worker.jobs.imports.run_import"
# The job's time limit. 1M rows are meant to take about a minute (DESIGN 5); a slow database
# may take many times that, and a job killed at the limit has to start over.
IMPORT_JOB_TIMEOUT_S = 3600
# How long RQ keeps a finished job's record; the import's own record (ImportJob) stays.
RESULT_TTL_S = 24 * 3600
FAILURE_TTL_S = 7 * 24 * 3600


def rq_connection(settings: Settings) -> Redis:
    """A synchronous client as RQ needs it: bytes, not decoded strings."""
    return Redis.from_url(
        settings.redis_url or embedded_redis_url(settings),
        decode_responses=False,
        client_name="nextcall-api-enqueue",
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_socket_timeout_s,
    )


def enqueue_import(settings: Settings, import_id: int) -> str:
    """Queue the import's job (blocking: call it from a thread); returns the RQ job id.

    The id is derived from the import, so enqueueing one import twice keeps one job.
    """
    with rq_connection(settings) as connection:
        queue = Queue(QUEUE_NAME, connection=connection)
        job = queue.enqueue_call(
            IMPORT_JOB,
            args=(import_id,),
            timeout=IMPORT_JOB_TIMEOUT_S,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
            job_id=f"import-{import_id}",
            description=f"imports.run import_id={import_id}",
        )
        return str(job.id)
