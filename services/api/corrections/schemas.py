"""Request and response bodies of corrections (rule 26)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services.api.fields import DbId, Text
from services.api.pagination import Page
from services.api.work.schemas import MembershipOut

CODE = Field(min_length=1, max_length=100)
COMMENT = Field(default="", max_length=4000)


class SendToCorrection(BaseModel):
    owner_user_id: DbId
    reason: Text = Field(min_length=1, max_length=2000)
    allowed_outcomes: list[Text] = Field(min_length=1, max_length=100)
    version: int | None = Field(
        default=None, ge=1, description="Refuse with 409 unless the membership is at this version."
    )


class Resolve(BaseModel):
    code: Text = CODE
    comment: Text = COMMENT
    follow_up_at: datetime | None = None
    follow_up_owner_id: DbId | None = None


class CountAs(StrEnum):
    original = "original"  # the corrected event's user, at its time
    me = "me"  # the correcting user, now


class SelfCorrection(Resolve):
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

    correction: CorrectionOut
    membership: MembershipOut
    event_id: int


class Corrected(BaseModel):
    """A self-correction; `membership` is set when the customer's state changed with it."""

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

    total: int
