from datetime import datetime

from pydantic import BaseModel, Field

from services.api.work.schemas import MembershipOut


class FollowUpChange(BaseModel):
    """Change a customer's follow-up from its details (rule 23); omitted fields stay."""

    at: datetime | None = Field(default=None, description="The new time.")
    owner_id: int | None = Field(default=None, description="The new owner of a personal follow-up.")


class FollowUpChanged(BaseModel):
    membership: MembershipOut
    event_id: int
