"""The tenant's data controller and purpose (rule 5), and anonymisation of a customer."""

from fastapi import APIRouter

from services.api.deps import Admin, CurrentUser, Res
from services.api.fields import IdPath
from services.api.privacy import service
from services.api.privacy.schemas import AnonymisedOut, PrivacyIn, PrivacyOut

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
