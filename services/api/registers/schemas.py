"""Request and response bodies of /v1/registers."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Name

REGISTER_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "name": "Reservasjonsregisteret",
    "max_age_days": 31,
    "extract_date": "2026-12-01",
    "numbers": 1048576,
    "imported_at": "2026-12-01T06:10:00Z",
    "created_at": "2026-11-01T08:00:00Z",
    "stale": None,
}


class RegisterCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Reservasjonsregisteret", "max_age_days": 31}]},
        extra="forbid",
    )

    name: Name
    max_age_days: Annotated[
        int,
        Field(
            ge=1,
            le=366,
            description="How old the extract in force may be before dialling stops "
            "(Norway: monthly, 31).",
        ),
    ] = 31


class RegisterOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [REGISTER_EXAMPLE]}, from_attributes=True
    )

    id: int
    name: str
    max_age_days: int
    extract_date: date | None = Field(description="the extract in force; null before the first")
    numbers: int
    imported_at: datetime | None
    created_at: datetime
    stale: str | None = Field(
        default=None, description="why this register stops dialling now; null while it does not"
    )


IMPORT_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "register_id": 3,
    "extract_date": "2026-12-01",
    "status": "done",
    "total_rows": 1048577,
    "processed_rows": 1048577,
    "accepted_rows": 1048576,
    "rejected_rows": 1,
    "errors": [{"line": 77, "reason": "'12' is not a possible phone number"}],
    "created_at": "2026-12-01T06:00:00Z",
    "finished_at": "2026-12-01T06:10:00Z",
}


class RegisterImportOut(BaseModel):
    """An extract's import: queued, running (progress in the counts), done or failed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [IMPORT_EXAMPLE]}, from_attributes=True
    )

    id: int
    register_id: int
    extract_date: date
    status: str
    total_rows: int = Field(description="lines in the file (an estimate until read)")
    processed_rows: int = Field(description="lines read")
    accepted_rows: int = Field(description="numbers written (each number once)")
    rejected_rows: int
    errors: list[dict[str, Any]] = Field(description="the first rejected lines")
    created_at: datetime
    finished_at: datetime | None
