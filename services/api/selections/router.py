"""Selections of an assignment's customers: count, segment, outcomes on offer, bulk outcome.

Counting and the outcomes on offer are open to assignment setup (segmentation is part of it)
and to extended handling (who applies bulk outcomes must see what they would apply to).
"""

from typing import Annotated

from fastapi import APIRouter, Response, status

from services.api.access import require_any
from services.api.auth.cache import Principal
from services.api.deps import Extended, Res, Setup
from services.api.errors import refuses
from services.api.moves.schemas import BulkJobOut
from services.api.selections import bulk, service
from services.api.selections.schemas import (
    BulkOutcomeOut,
    BulkOutcomeRequest,
    CountOut,
    OutcomesOut,
    SegmentedOut,
    SegmentRequest,
)
from shared.models import Permission
from shared.selections.selection import Selection

router = APIRouter(tags=["selections"])

SelectionReader = Annotated[
    Principal, require_any(Permission.assignment_setup, Permission.extended_handling)
]


@router.post(
    "/selections/count",
    responses=refuses(
        "a selection that disagrees: attempts_min above attempts_max, a custom field not declared"
    ),
    summary="Count a selection",
    response_model=CountOut,
)
async def count(body: Selection, resources: Res, user: SelectionReader) -> CountOut:
    """How many customers the selection holds, per state and segment: one aggregate query."""
    return await service.count(resources, user, body)


@router.post(
    "/selections/segment",
    responses=refuses(
        "a selection that disagrees: attempts_min above attempts_max, a custom field not declared"
    ),
    summary="Segment a selection",
    response_model=SegmentedOut,
)
async def segment(body: SegmentRequest, resources: Res, user: Setup) -> SegmentedOut:
    """Into a new segment (`name`, 409 if taken in any case) or an existing one
    (`segment_id`); states are kept. Large selections answer with a job to poll."""
    return await service.segment(resources, user, body)


@router.post(
    "/selections/outcomes",
    responses=refuses(
        "a selection that disagrees: attempts_min above attempts_max, a custom field not declared"
    ),
    summary="Outcomes valid for a selection",
    response_model=OutcomesOut,
)
async def outcomes(body: Selection, resources: Res, user: SelectionReader) -> OutcomesOut:
    """The outcomes valid for every selected customer; none for an empty selection or one
    with a customer in correction."""
    return await service.outcomes(resources, user, body)


@router.post(
    "/bulk-outcomes",
    summary="Register a bulk outcome",
    response_model=BulkOutcomeOut | BulkJobOut,
    responses={
        status.HTTP_202_ACCEPTED: {"model": BulkJobOut},
        **refuses("an empty selection, or a code some selected customer's state does not allow"),
    },
)
async def bulk_outcome(
    body: BulkOutcomeRequest, resources: Res, user: Extended, response: Response
) -> BulkOutcomeOut | BulkJobOut:
    """All or nothing: 422 naming the states that do not allow the code, 409 when a customer
    is held or the count differs from `expected_count`. A large selection answers 202 with a
    bulk job (poll /v1/bulk-jobs/{id})."""
    result = await bulk.apply(resources, user, body)
    if isinstance(result, BulkJobOut):
        response.status_code = status.HTTP_202_ACCEPTED
    return result
