"""My Work: the agent's follow-up lists (rules 20-23)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from services.api.pagination import Page


class WorkList(StrEnum):
    personal_today = "personal-today"  # my personal follow-ups due later today
    shared_today = "shared-today"  # shared follow-ups due later today, visible assignments
    to_follow_up = "to-follow-up"  # all my personal follow-ups not yet passed (side panel)
    passed_personal = "passed-personal"  # my personal follow-ups whose time has passed
    passed_shared = "passed-shared"  # shared follow-ups whose time has passed


class FollowUpRow(BaseModel):
    customer_id: int
    customer_name: str
    assignment_id: int
    assignment_name: str
    segment_id: int | None
    state: str
    followup_at: datetime | None
    followup_kind: str
    followup_owner_id: int | None


class FollowUpPage(Page[FollowUpRow]):
    """A page of one list; `total` counts the whole list."""

    name: WorkList
    total: int


class MyWorkOut(BaseModel):
    """The home screen: the first rows of every list and their totals; each list's `next`
    continues it at GET /v1/my-work/{list}."""

    personal_today: FollowUpPage
    shared_today: FollowUpPage
    to_follow_up: FollowUpPage
    passed_personal: FollowUpPage
    passed_shared: FollowUpPage
    # Open corrections sent to the caller (rule 26a); the list is GET /v1/my-work/to-correct.
    to_correct: int = 0
    # New care-pipeline requests the caller handles now (for holders of pipeline_manage);
    # the list is GET /v1/my-work/requests.
    new_requests: int = 0
