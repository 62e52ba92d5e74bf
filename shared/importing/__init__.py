"""Importing customers into an assignment (rule 3): CSV or JSON, upserted by external id.

Used by the API (small imports, answered inline) and the worker (large ones, run as a job).
Imports nothing from services/: placing the imported customers in the queue is the caller's
`on_batch_committed` (or `on_batch_result`) callback.
"""

from shared.importing.parsing import (
    CsvSource,
    ImportFileError,
    ImportFormat,
    ImportSource,
    JsonSource,
    RawRow,
    open_source,
)
from shared.importing.runner import (
    DEFAULT_BATCH_SIZE,
    ImportNotFound,
    ImportProgress,
    OnBatchCommitted,
    OnBatchResult,
    failure_of,
    import_target,
    progress_of,
    rejected_rows_of,
    run_import,
    warnings_of,
)
from shared.importing.upsert import (
    ACTIVE_ELSEWHERE,
    BatchResult,
    ImportTarget,
    NewMember,
    Upserter,
)
from shared.importing.validation import (
    CustomerRow,
    FieldRule,
    FieldRules,
    RowError,
    RowValidator,
)

__all__ = [
    "ACTIVE_ELSEWHERE",
    "DEFAULT_BATCH_SIZE",
    "BatchResult",
    "CsvSource",
    "CustomerRow",
    "FieldRule",
    "FieldRules",
    "ImportFileError",
    "ImportFormat",
    "ImportNotFound",
    "ImportProgress",
    "ImportSource",
    "ImportTarget",
    "JsonSource",
    "NewMember",
    "OnBatchCommitted",
    "OnBatchResult",
    "RawRow",
    "RowError",
    "RowValidator",
    "Upserter",
    "failure_of",
    "import_target",
    "open_source",
    "progress_of",
    "rejected_rows_of",
    "run_import",
    "warnings_of",
]
