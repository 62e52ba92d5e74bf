"""My Work: the agent's follow-up lists (rules 20-23)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

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


FOLLOW_UP_PAGE_EXAMPLE: dict[str, Any] = {
    "name": "personal-today",
    "total": 1,
    "limit": 50,
    "next": "WyJwZXJzb25hbC10b2RheSIsIjIwMjYtMTItMDVUMTM6MDA6MDBaIiwxMDQyXQ",
    "items": [
        {
            "customer_id": 1042,
            "customer_name": "Ola Nordmann",
            "assignment_id": 3,
            "assignment_name": "Spring campaign",
            "segment_id": None,
            "state": "follow_up",
            "followup_at": "2026-12-05T13:00:00Z",
            "followup_kind": "personal",
            "followup_owner_id": 7,
        }
    ],
}


class FollowUpPage(Page[FollowUpRow]):
    """A page of one list; `total` counts the whole list."""

    model_config = ConfigDict(json_schema_extra={"examples": [FOLLOW_UP_PAGE_EXAMPLE]})

    name: WorkList
    total: int


class MyWorkOut(BaseModel):
    """The home screen: the first rows of every list and their totals; each list's `next`
    continues it at GET /v1/my-work/{list}."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "personal_today": {**FOLLOW_UP_PAGE_EXAMPLE, "limit": 10},
                    **{
                        which.value.replace("-", "_"): {
                            "name": which.value,
                            "total": 0,
                            "limit": 10,
                            "next": None,
                            "items": [],
                        }
                        for which in WorkList
                        if which != WorkList.personal_today
                    },
                    "to_correct": 0,
                    "new_requests": 0,
                }
            ]
        }
    )

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
