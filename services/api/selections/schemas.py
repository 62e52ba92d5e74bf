"""Bodies of /v1/selections and /v1/bulk-outcomes (rule 28)."""

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.api.fields import DbId, Name, Text
from services.api.moves.schemas import BulkJobOut
from services.api.patch import Patch
from shared.selections.selection import Selection


class CountOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "count": 120,
                    "by_state": {"free": 100, "follow_up": 20},
                    "by_segment": {"0": 90, "5": 30},
                }
            ]
        }
    )

    count: int
    by_state: dict[str, int]
    by_segment: dict[str, int] = Field(
        description='Per segment id; "0" stands for unsegmented, as in a selection.'
    )


class SegmentRequest(Patch):
    """Put a selection into a new segment (`name`) or an existing one (`segment_id`): one of
    the two, neither null (a `Patch` for that: its fields are never null)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"selection": {"assignment_id": 3, "custom": {"region": "Oslo"}}, "name": "Oslo"},
                {"selection": {"assignment_id": 3, "attempts_min": 5}, "segment_id": 5},
            ]
        },
        extra="forbid",
    )

    selection: Selection
    name: Name | None = None
    segment_id: DbId | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.name is None) == (self.segment_id is None):
            raise ValueError("give either 'name' (a new segment) or 'segment_id', not both")
        return self


class SegmentedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"segment_id": 6, "name": "Oslo", "created": True, "count": 90, "job": None}
            ]
        }
    )

    segment_id: int
    name: str
    created: bool
    count: int = Field(description="Customers selected (moved inline, or by the job).")
    job: BulkJobOut | None = Field(
        default=None, description="A large selection is moved by a worker job: poll it."
    )


class OfferedOut(BaseModel):
    code: str
    name: str
    to_state: str | None = Field(description="Null when it depends on the customer's state.")
    follow_up: str
    follow_up_time_required: bool


class OutcomesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "count": 120,
                    "by_state": {"free": 120},
                    "outcomes": [
                        {
                            "code": "not_interested",
                            "name": "Not interested",
                            "to_state": "closed",
                            "follow_up": "none",
                            "follow_up_time_required": False,
                        }
                    ],
                    "reason": None,
                }
            ]
        }
    )

    count: int
    by_state: dict[str, int]
    outcomes: list[OfferedOut]
    reason: str | None = Field(description="Why nothing is offered, when nothing is.")


class BulkOutcomeRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "selection": {"assignment_id": 3, "states": ["free"], "attempts_min": 5},
                    "code": "not_interested",
                    "comment": "Campaign closed",
                    "expected_count": 120,
                }
            ]
        },
        extra="forbid",
    )

    selection: Selection
    code: str = Field(min_length=1, max_length=100)
    comment: Text = Field(default="", max_length=4000)
    follow_up_at: datetime | None = None
    expected_count: int | None = Field(
        default=None, ge=0, description="The count the user saw; another count answers 409."
    )


class BulkOutcomeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "not_interested", "count": 120}]}
    )

    code: str
    count: int
