"""Every job the worker runs, in one place: what the worker does takes one read.

A job is a top-level function in one module per domain. It takes ids and plain JSON values,
opens its own connections inside the forked work-horse, and is idempotent (STYLE 6).

    imports.run_import(import_id)             imports.run: a large customer import
    rebuild.rebuild_assignment(assignment_id)  queue.rebuild: Redis queue from the database
    moves.run_move(bulk_job_id)                moves.run: move a selection of customers
    outcomes.run_bulk_outcome(bulk_job_id)     outcomes.run: one outcome on a large selection
"""

from services.worker.jobs.imports import run_import
from services.worker.jobs.moves import run_move
from services.worker.jobs.outcomes import run_bulk_outcome
from services.worker.jobs.rebuild import rebuild_assignment

__all__ = ["rebuild_assignment", "run_bulk_outcome", "run_import", "run_move"]
