from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.api.work.schemas import MembershipOut
from shared.selections.selection import Selection


class MoveOne(BaseModel):
    """Move a customer to an assignment (free and unsegmented there unless a segment is
    named) or, within its assignment, to another segment (rule 9)."""

    assignment_id: int = Field(ge=1)
    segment_id: int | None = Field(default=None, ge=1)


class MoveSelection(BaseModel):
    selection: Selection
    target_assignment_id: int = Field(ge=1)
    target_segment_id: int | None = Field(default=None, ge=1)


class MovedOut(BaseModel):
    membership: MembershipOut
    from_assignment_id: int


class BulkJobOut(BaseModel):
    id: int
    kind: str
    status: str
    params: dict[str, Any]
    total: int
    processed: int
    succeeded: int
    failed: int
    errors: list[dict[str, Any]]
    created_at: datetime
    finished_at: datetime | None
