from fastapi import APIRouter

from services.api.deps import Agent, Res
from services.api.fields import IdPath
from services.api.followups.schemas import FollowUpChange, FollowUpChanged
from services.api.followups.service import change_follow_up

router = APIRouter(tags=["follow-ups"])


@router.patch("/customers/{customer_id}/follow-up", response_model=FollowUpChanged)
async def change(
    customer_id: IdPath, body: FollowUpChange, resources: Res, agent: Agent
) -> FollowUpChanged:
    """Move a follow-up to another time or, if personal, to another owner's My Work."""
    return await change_follow_up(resources, agent, customer_id, body)
