from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.work.schemas import MEMBERSHIP_EXAMPLE, MembershipOut
from shared.selections.selection import Selection


class MoveOne(BaseModel):
    """Move a customer to an assignment (free and unsegmented there unless a segment is
    named) or, within its assignment, to another segment (rule 9)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"assignment_id": 4}, {"assignment_id": 3, "segment_id": 5}]
        }
    )

    assignment_id: int = Field(ge=1)
    segment_id: int | None = Field(default=None, ge=1)


class MoveSelection(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "selection": {"assignment_id": 3, "states": ["free"], "attempts_min": 5},
                    "target_assignment_id": 4,
                }
            ]
        }
    )

    selection: Selection
    target_assignment_id: int = Field(ge=1)
    target_segment_id: int | None = Field(default=None, ge=1)


class MovedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "membership": {
                        **MEMBERSHIP_EXAMPLE,
                        "assignment_id": 4,
                        "state": "free",
                        "state_kind": "free",
                        "followup_at": None,
                        "followup_kind": None,
                        "followup_owner_id": None,
                    },
                    "from_assignment_id": 3,
                }
            ]
        }
    )

    membership: MembershipOut
    from_assignment_id: int


class BulkJobOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 14,
                    "kind": "move",
                    "status": "done",
                    "params": {"target_assignment_id": 4},
                    "total": 120,
                    "processed": 120,
                    "succeeded": 118,
                    "failed": 2,
                    "errors": [{"customer_id": 1042, "reason": "held by an agent"}],
                    "created_at": "2026-12-05T08:00:00Z",
                    "finished_at": "2026-12-05T08:00:04Z",
                }
            ]
        }
    )

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
