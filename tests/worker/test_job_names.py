"""The job names the API and the sweep queue by (shared/infra/jobqueue.py) name real job functions.

The API never imports the worker (DESIGN 4), so a renamed or moved job would otherwise fail
only when a worker picks the job up.
"""

import inspect

import pytest
from rq.utils import import_attribute

from shared.infra.jobqueue import BULK_JOBS, IMPORT_JOB
from shared.models import BulkKind


@pytest.mark.parametrize("path", [IMPORT_JOB, *BULK_JOBS.values()])
def test_each_name_is_a_job_taking_one_id(path: str) -> None:
    # Resolved as RQ resolves it when a worker runs the job.
    job = import_attribute(path)
    assert inspect.isfunction(job) and not inspect.iscoroutinefunction(job), path
    parameters = list(inspect.signature(job).parameters.values())
    assert [p.annotation for p in parameters] == [int], path
    assert parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


def test_every_kind_of_bulk_job_has_its_job() -> None:
    assert set(BULK_JOBS) == {kind.value for kind in BulkKind}
