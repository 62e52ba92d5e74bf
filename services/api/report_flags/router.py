"""How reports count an event: exclude it, or count it for another user or time (rule 27)."""

from fastapi import APIRouter

from services.api.corrections.common import Corrector
from services.api.deps import Res
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.report_flags import service
from services.api.report_flags.schemas import ReportFlagsChange, ReportFlagsOut

router = APIRouter(tags=["report flags"])


@router.patch(
    "/events/{event_id}/report",
    responses=refuses("a report user who is not an active user of the tenant"),
    summary="Change how reports count an event",
    response_model=ReportFlagsOut,
)
async def change_report_flags(
    event_id: IdPath, body: ReportFlagsChange, resources: Res, user: Corrector
) -> ReportFlagsOut:
    """The event stays in the history; a report_flags_changed event records old and new."""
    return await service.change_report_flags(resources, user, event_id, body)
