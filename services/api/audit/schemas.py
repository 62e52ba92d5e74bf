from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict

from services.api.pagination import Page
from shared.audit import AuditAction, Category


class AuditFormat(StrEnum):
    """csv: a header row, then one entry a row (`data` as JSON); jsonl: one JSON object a line."""

    csv = "csv"
    jsonl = "jsonl"


_ENTRY: JsonDict = {
    "id": 5120,
    "at": "2026-12-06T10:15:00Z",
    "user_id": 7,
    "token_id": 12,
    "action": "customer.read",
    "category": "access",
    "target_type": "customer",
    "target_id": 1042,
    "data": {},
}


class AuditEntryOut(BaseModel):
    """Who did what to which thing, and when; no personal data in `data`."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})

    id: int
    at: datetime
    user_id: int | None
    token_id: int | None
    action: AuditAction
    category: Category
    target_type: str
    target_id: int | None
    data: dict[str, Any]


class AuditPage(Page[AuditEntryOut]):
    """Entries newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_ENTRY], "limit": 50, "next": "WyJhdWRpdCIsIDUxMjBd"}]
        }
    )
