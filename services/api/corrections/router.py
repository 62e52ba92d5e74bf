"""Corrections (rule 26): send a customer to a colleague's "to correct" list, resolve it, or
correct an outcome yourself."""

from fastapi import APIRouter, status

from services.api.corrections.common import Corrector
from services.api.corrections.schemas import (
    Corrected,
    CorrectionResult,
    Resolve,
    SelfCorrection,
    SendToCorrection,
)
from services.api.corrections.self_correct import correct_event
from services.api.corrections.service import resolve, send_to_correction
from services.api.deps import CurrentUser, Res
from services.api.errors import refuses
from services.api.fields import IdPath

router = APIRouter(tags=["corrections"])


@router.post(
    "/customers/{customer_id}/corrections",
    responses=refuses("an owner who may not correct, or outcomes the flow does not have"),
    summary="Send a customer to correction",
    response_model=CorrectionResult,
    status_code=status.HTTP_201_CREATED,
)
async def send(
    customer_id: IdPath, body: SendToCorrection, resources: Res, user: Corrector
) -> CorrectionResult:
    """Park the customer in "@correction", in the owner's "to correct" list."""
    return await send_to_correction(resources, user, customer_id, body)


@router.post(
    "/corrections/{correction_id}/resolve",
    responses=refuses("a code the correction does not allow"),
    summary="Resolve a correction",
    response_model=CorrectionResult,
)
async def resolve_correction(
    correction_id: IdPath, body: Resolve, resources: Res, user: CurrentUser
) -> CorrectionResult:
    """The owner registers one of the allowed outcomes; the customer re-enters the flow."""
    return await resolve(resources, user, correction_id, body)


@router.post(
    "/events/{event_id}/correct",
    responses=refuses("an event that is no outcome, or a code the flow does not allow there"),
    summary="Correct an outcome yourself",
    response_model=Corrected,
    status_code=status.HTTP_201_CREATED,
)
async def correct(
    event_id: IdPath, body: SelfCorrection, resources: Res, user: Corrector
) -> Corrected:
    """Register the right outcome in place of an earlier one, which leaves the reports."""
    return await correct_event(resources, user, event_id, body)
