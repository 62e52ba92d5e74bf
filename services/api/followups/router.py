from fastapi import APIRouter

from services.api.deps import Agent, Res
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.followups import service
from services.api.followups.schemas import FollowUpChange, FollowUpChanged

router = APIRouter(tags=["follow-ups"])


@router.patch(
    "/customers/{customer_id}/follow-up",
    responses=refuses("an owner who cannot own a follow-up on this customer's assignment"),
    summary="Change a follow-up",
    response_model=FollowUpChanged,
)
async def change_follow_up(
    customer_id: IdPath, body: FollowUpChange, resources: Res, agent: Agent
) -> FollowUpChanged:
    """Move a follow-up to another time or, if personal, to another owner's My Work."""
    return await service.change_follow_up(resources, agent, customer_id, body)
