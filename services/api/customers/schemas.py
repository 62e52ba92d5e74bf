"""Schemas of customer imports."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared import importing
from shared.models import ImportJob, ImportStatus

DEFAULT_ERRORS_LIMIT = 100
MAX_ERRORS_LIMIT = 1000


class ImportRowError(BaseModel):
    """A rejected row: its line in the file (CSV: header = 1; JSON: index + 1) and why."""

    line: int | None
    external_id: str | None
    reason: str


class ImportOut(BaseModel):
    """An import and its progress; `errors` is one page of the rejected rows."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 21,
                    "assignment_id": 3,
                    "format": "csv",
                    "status": "done",
                    "total_rows": 3,
                    "processed_rows": 3,
                    "accepted_rows": 2,
                    "rejected_rows": 1,
                    "progress": 100.0,
                    "warnings": [],
                    "failure": None,
                    "errors": [
                        {
                            "line": 3,
                            "external_id": "CRM-10043",
                            "reason": "phone_1: not a phone number",
                        }
                    ],
                    "errors_total": 1,
                    "errors_offset": 0,
                    "errors_limit": 100,
                    "created_at": "2026-12-05T08:00:00Z",
                    "finished_at": "2026-12-05T08:00:01Z",
                }
            ]
        }
    )

    id: int
    assignment_id: int
    format: str
    status: ImportStatus
    total_rows: int
    processed_rows: int
    accepted_rows: int
    rejected_rows: int
    progress: float = Field(description="processed rows in percent of all rows")
    warnings: list[str]
    failure: str | None = Field(description="why the import stopped, when status is failed")
    errors: list[ImportRowError]
    errors_total: int
    errors_offset: int
    errors_limit: int
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_job(
        cls, job: ImportJob, *, errors_offset: int = 0, errors_limit: int = DEFAULT_ERRORS_LIMIT
    ) -> "ImportOut":
        rejected = importing.rejected_rows_of(job)
        page: list[dict[str, Any]] = rejected[errors_offset : errors_offset + errors_limit]
        if job.status == ImportStatus.done:
            progress = 100.0
        elif job.total_rows > 0:
            progress = round(min(100.0, 100.0 * job.processed_rows / job.total_rows), 1)
        else:
            progress = 0.0
        return cls(
            id=job.id,
            assignment_id=job.assignment_id,
            format=job.format,
            status=ImportStatus(job.status),
            total_rows=job.total_rows,
            processed_rows=job.processed_rows,
            accepted_rows=job.accepted_rows,
            rejected_rows=job.rejected_rows,
            progress=progress,
            warnings=importing.warnings_of(job),
            failure=importing.failure_of(job),
            errors=[ImportRowError.model_validate(e) for e in page],
            errors_total=len(rejected),
            errors_offset=errors_offset,
            errors_limit=errors_limit,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )
