"""Request and response bodies of corrections (rule 26)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import DbId, Text
from services.api.pagination import Page
from services.api.work.schemas import MEMBERSHIP_EXAMPLE, MembershipOut

CODE = Field(min_length=1, max_length=100)
COMMENT = Field(default="", max_length=4000)


class SendToCorrection(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "owner_user_id": 7,
                    "reason": "Wrong product registered",
                    "allowed_outcomes": ["sale", "not_interested"],
                }
            ]
        }
    )

    owner_user_id: DbId
    reason: Text = Field(min_length=1, max_length=2000)
    allowed_outcomes: list[Text] = Field(min_length=1, max_length=100)
    version: int | None = Field(
        default=None, ge=1, description="Refuse with 409 unless the membership is at this version."
    )


class Resolve(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "sale", "comment": "Home insurance, not car"}]}
    )

    code: Text = CODE
    comment: Text = COMMENT
    follow_up_at: datetime | None = None
    follow_up_owner_id: DbId | None = None


class CountAs(StrEnum):
    original = "original"  # the corrected event's user, at its time
    me = "me"  # the correcting user, now


class SelfCorrection(Resolve):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "sale", "comment": "Home insurance, not car", "count_as": "original"}
            ]
        }
    )

    count_as: CountAs


class UserRef(BaseModel):
    id: int
    name: str


class OutcomeRef(BaseModel):
    code: str
    name: str


class CorrectionOut(BaseModel):
    id: int
    customer_id: int
    assignment_id: int
    owner: UserRef
    requested_by: UserRef
    reason: str
    allowed_outcomes: list[OutcomeRef]
    previous_state: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_event_id: int | None


class CorrectionResult(BaseModel):
    """A correction after it was sent or resolved, the membership now, and the event."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "correction": {
                        "id": 4,
                        "customer_id": 1042,
                        "assignment_id": 3,
                        "owner": {"id": 7, "name": "Kari Nordmann"},
                        "requested_by": {"id": 2, "name": "Per Hansen"},
                        "reason": "Wrong product registered",
                        "allowed_outcomes": [{"code": "sale", "name": "Sale"}],
                        "previous_state": "sold",
                        "created_at": "2026-12-05T10:00:00Z",
                        "resolved_at": None,
                        "resolved_event_id": None,
                    },
                    "membership": {
                        **MEMBERSHIP_EXAMPLE,
                        "state": "@correction",
                        "state_kind": "progressive",
                    },
                    "event_id": 88130,
                }
            ]
        }
    )

    correction: CorrectionOut
    membership: MembershipOut
    event_id: int


class Corrected(BaseModel):
    """A self-correction; `membership` is set when the customer's state changed with it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": 88131,
                    "corrected_event_id": 88120,
                    "state_changed": True,
                    "membership": {**MEMBERSHIP_EXAMPLE, "state": "sold", "state_kind": "final"},
                }
            ]
        }
    )

    event_id: int
    corrected_event_id: int
    state_changed: bool
    membership: MembershipOut | None


class ToCorrectRow(BaseModel):
    correction_id: int
    customer_id: int
    customer_name: str
    assignment_id: int
    assignment_name: str
    reason: str
    allowed_outcomes: list[OutcomeRef]
    requested_by: UserRef
    created_at: datetime


class ToCorrectPage(Page[ToCorrectRow]):
    """A page of the caller's open corrections; `total` counts them all."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total": 1,
                    "limit": 50,
                    "next": None,
                    "items": [
                        {
                            "correction_id": 4,
                            "customer_id": 1042,
                            "customer_name": "Ola Nordmann",
                            "assignment_id": 3,
                            "assignment_name": "Spring campaign",
                            "reason": "Wrong product registered",
                            "allowed_outcomes": [{"code": "sale", "name": "Sale"}],
                            "requested_by": {"id": 2, "name": "Per Hansen"},
                            "created_at": "2026-12-05T10:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    total: int
