from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import DbId
from services.api.patch import Patch
from services.api.work.schemas import MEMBERSHIP_EXAMPLE, MembershipOut


class FollowUpChange(Patch):
    """Change a customer's follow-up from its details (rule 23): a new time, a new owner, or
    both; an omitted field stays."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": ["at"]}, {"required": ["owner_id"]}],
            "examples": [{"at": "2027-03-01T09:30:00+01:00"}, {"owner_id": 7}],
        }
    )

    at: datetime | None = Field(default=None, description="The new time.")
    owner_id: DbId | None = Field(
        default=None, description="The new owner of a personal follow-up."
    )


class FollowUpChanged(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"membership": MEMBERSHIP_EXAMPLE, "event_id": 88121}]}
    )

    membership: MembershipOut
    event_id: int
