"""Handing a large import to the worker through RQ, by the job's import path."""

from shared.infra.jobqueue import IMPORT_JOB, enqueue, import_rq_id
from shared.infra.settings import Settings

__all__ = ["IMPORT_JOB", "IMPORT_JOB_TIMEOUT_S", "enqueue_import"]

# The job's time limit. 1M rows are meant to take about a minute (DESIGN 5); a slow database
# may take many times that, and a job killed at the limit has to start over.
IMPORT_JOB_TIMEOUT_S = 3600


def enqueue_import(settings: Settings, import_id: int) -> str:
    """Queue the import's job (blocking: call it from a thread); returns the RQ job id.

    The id is derived from the import, so enqueueing one import twice keeps one job.
    """
    return enqueue(
        settings,
        IMPORT_JOB,
        args=(import_id,),
        job_id=import_rq_id(import_id),
        timeout_s=IMPORT_JOB_TIMEOUT_S,
        description=f"imports.run import_id={import_id}",
    )
