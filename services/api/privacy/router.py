"""The tenant's data controller and purpose (rule 5), anonymisation of a customer, and GDPR
requests: the subject-access export and retention policies (issue 15 point 5)."""

from fastapi import APIRouter

from services.api.deps import Admin, CurrentUser, Res
from services.api.fields import IdPath
from services.api.privacy import requests, service
from services.api.privacy.schemas import (
    AnonymisedOut,
    PrivacyIn,
    PrivacyOut,
    RetentionIn,
    RetentionOut,
    SubjectAccessOut,
)

router = APIRouter(tags=["privacy"])


@router.get("/tenant/privacy", summary="Get the tenant's privacy notice", response_model=PrivacyOut)
async def get_privacy(resources: Res, user: CurrentUser) -> PrivacyOut:
    """The tenant's data controller and purpose of processing, as customer details show them."""
    async with resources.sessionmaker() as session:
        return await service.privacy(session, user.tenant_id)


@router.put("/tenant/privacy", summary="Set the tenant's privacy notice", response_model=PrivacyOut)
async def put_privacy(body: PrivacyIn, resources: Res, admin: Admin) -> PrivacyOut:
    """Set the tenant's data controller and purpose of processing (administrators)."""
    return await service.set_privacy(resources, admin, body)


@router.post(
    "/customers/{customer_id}/anonymise",
    summary="Anonymise a customer",
    response_model=AnonymisedOut,
)
async def anonymise_customer(customer_id: IdPath, resources: Res, admin: Admin) -> AnonymisedOut:
    """Irreversibly blank the customer's personal fields; counts in reports stay the same.

    Refused (409) while an agent holds the customer, and once it is anonymised.
    """
    return await service.anonymise(resources, admin, customer_id)


@router.get(
    "/customers/{customer_id}/export",
    summary="Export everything held about a customer",
    response_model=SubjectAccessOut,
)
async def export_customer(customer_id: IdPath, resources: Res, admin: Admin) -> SubjectAccessOut:
    """A subject-access request (GDPR article 15): the customer's fields, its place in an
    assignment, its whole history, products, meetings, corrections and care requests, as
    stored. Recorded in the privacy log."""
    return await requests.export(resources, admin, customer_id)


@router.get("/tenant/retention", summary="Get the retention policies", response_model=RetentionOut)
async def get_retention(resources: Res, admin: Admin) -> RetentionOut:
    """After how many months without activity customers are anonymised: the tenant's
    policy and the assignments' own."""
    async with resources.sessionmaker() as session:
        return await requests.retention(session, admin.tenant_id)


@router.put("/tenant/retention", summary="Set the tenant's retention", response_model=RetentionOut)
async def put_retention(body: RetentionIn, resources: Res, admin: Admin) -> RetentionOut:
    """Customers without activity for `months` are anonymised by the worker within the hour
    (null: never). Assignments with a policy of their own keep it for their customers."""
    return await requests.set_retention(resources, admin, assignment_id=None, months=body.months)


@router.put(
    "/assignments/{assignment_id}/retention",
    summary="Set an assignment's retention",
    response_model=RetentionOut,
)
async def put_assignment_retention(
    assignment_id: IdPath, body: RetentionIn, resources: Res, admin: Admin
) -> RetentionOut:
    """The assignment's customers are anonymised after `months` without activity instead of
    the tenant's policy (null: the tenant's policy applies again)."""
    return await requests.set_retention(
        resources, admin, assignment_id=assignment_id, months=body.months
    )
