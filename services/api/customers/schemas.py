"""Schemas of customer imports."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.pagination import MAX_LIMIT, IdKey, Keyset, Page, PageRequest
from shared import importing
from shared.models import ImportJob, ImportStatus

DEFAULT_ERRORS_LIMIT = 100
MAX_ERRORS_LIMIT = MAX_LIMIT

# Imports newest first, by id.
IMPORTS: Keyset[IdKey] = Keyset("imports", IdKey)
# An import's rejected rows in the order they were found, by their place among them: rows are
# only ever added at the end.
IMPORT_ERRORS: Keyset[IdKey] = Keyset("import-errors", IdKey)


ROW_ERROR_EXAMPLE: dict[str, Any] = {
    "line": 3,
    "external_id": "CRM-10043",
    "reason": "phone_1: not a phone number",
}
IMPORT_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": 21,
    "assignment_id": 3,
    "format": "csv",
    "status": "done",
    "total_rows": 3,
    "processed_rows": 3,
    "accepted_rows": 2,
    "rejected_rows": 1,
    "progress": 100.0,
    "created_at": "2026-12-05T08:00:00Z",
    "finished_at": "2026-12-05T08:00:01Z",
}


class ImportRowError(BaseModel):
    """A rejected row: its line in the file (CSV: header = 1; JSON: index + 1) and why."""

    model_config = ConfigDict(json_schema_extra={"examples": [ROW_ERROR_EXAMPLE]})

    line: int | None
    external_id: str | None
    reason: str


class ImportSummary(BaseModel):
    """An import and its progress, as the list of imports shows it."""

    model_config = ConfigDict(json_schema_extra={"examples": [IMPORT_SUMMARY_EXAMPLE]})

    id: int
    assignment_id: int
    format: str
    status: ImportStatus
    total_rows: int
    processed_rows: int
    accepted_rows: int
    rejected_rows: int
    progress: float = Field(description="processed rows in percent of all rows")
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def fields_of(cls, job: ImportJob) -> dict[str, Any]:
        if job.status == ImportStatus.done:
            progress = 100.0
        elif job.total_rows > 0:
            progress = round(min(100.0, 100.0 * job.processed_rows / job.total_rows), 1)
        else:
            progress = 0.0
        return {
            "id": job.id,
            "assignment_id": job.assignment_id,
            "format": job.format,
            "status": ImportStatus(job.status),
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "accepted_rows": job.accepted_rows,
            "rejected_rows": job.rejected_rows,
            "progress": progress,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
        }

    @classmethod
    def of(cls, job: ImportJob) -> "ImportSummary":
        return cls(**cls.fields_of(job))


class ImportOut(ImportSummary):
    """An import, its progress and its first rejected rows; `errors_next` continues them at
    GET /v1/imports/{id}/errors."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **IMPORT_SUMMARY_EXAMPLE,
                    "warnings": [],
                    "failure": None,
                    "errors": [ROW_ERROR_EXAMPLE],
                    "errors_total": 1,
                    "errors_next": None,
                }
            ]
        }
    )

    warnings: list[str]
    failure: str | None = Field(description="why the import stopped, when status is failed")
    errors: list[ImportRowError]
    errors_total: int
    errors_next: str | None = Field(
        description="the cursor of the next page of rejected rows; null when all are shown"
    )

    @classmethod
    def from_job(cls, job: ImportJob, *, errors_limit: int = DEFAULT_ERRORS_LIMIT) -> "ImportOut":
        rejected = importing.rejected_rows_of(job)
        first = rejected_page(rejected, PageRequest(IMPORT_ERRORS, None, errors_limit))
        return cls(
            **cls.fields_of(job),
            warnings=importing.warnings_of(job),
            failure=importing.failure_of(job),
            errors=first.items,
            errors_total=len(rejected),
            errors_next=first.next,
        )


def rejected_page(rejected: list[dict[str, Any]], page: PageRequest[IdKey]) -> Page[ImportRowError]:
    """One page of an import's rejected rows."""
    start = 0 if page.after is None else page.after[0] + 1
    rows = [(i, rejected[i]) for i in range(start, min(len(rejected), start + page.fetch))]
    return page.answer(
        Page[ImportRowError],
        rows,
        key=lambda row: (row[0],),
        item=lambda row: ImportRowError.model_validate(row[1]),
    )
