"""Moving customers between assignments and segments (extended handling)."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.api.deps import CurrentUser, Extended, Res
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.moves import service
from services.api.moves.schemas import BulkJobOut, MovedOut, MoveOne, MoveSelection
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging

router = APIRouter(tags=["moves"])

BulkJobPages = Annotated[PageRequest[IdKey], Depends(paging(service.BULK_JOBS))]


@router.post(
    "/customers/{customer_id}/move",
    responses=refuses("a segment that is not the target assignment's"),
    summary="Move a customer",
    response_model=MovedOut,
)
async def move_customer(
    customer_id: IdPath, body: MoveOne, resources: Res, user: Extended
) -> MovedOut:
    """Free and unsegmented in the target assignment, follow-ups dropped, lease released."""
    return await service.move_one(resources, user, customer_id, body)


@router.post(
    "/moves",
    responses=refuses(
        "a selection that disagrees: attempts_min above attempts_max, a custom field not declared"
    ),
    summary="Move a selection of customers",
    response_model=BulkJobOut,
    status_code=status.HTTP_202_ACCEPTED,
)
async def move_selection(body: MoveSelection, resources: Res, user: Extended) -> BulkJobOut:
    """Move every customer of a selection, as a worker job; poll /v1/bulk-jobs/{id}."""
    return await service.start_selection_move(resources, user, body)


@router.get("/bulk-jobs", summary="List bulk jobs")
async def list_bulk_jobs(resources: Res, user: CurrentUser, page: BulkJobPages) -> Page[BulkJobOut]:
    """The tenant's bulk jobs (moves and bulk outcomes), newest first, with their progress."""
    jobs = await service.list_bulk_jobs(resources, user, page=page)
    return page.answer(Page[BulkJobOut], jobs, key=by_id, item=service.bulk_job_out)


@router.get("/bulk-jobs/{job_id}", summary="Get a bulk job", response_model=BulkJobOut)
async def bulk_job(job_id: IdPath, resources: Res, user: CurrentUser) -> BulkJobOut:
    """A bulk job's progress and result (a selection's move, segmentation or bulk outcome)."""
    return await service.get_bulk_job(resources, user, job_id)
