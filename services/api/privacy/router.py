"""The tenant's data controller and purpose (rule 5), and anonymisation of a customer."""

from fastapi import APIRouter

from services.api.deps import Admin, CurrentUser, Res
from services.api.fields import IdPath
from services.api.privacy import service
from services.api.privacy.schemas import AnonymisedOut, PrivacyIn, PrivacyOut

router = APIRouter(tags=["privacy"])


@router.get("/tenant/privacy", response_model=PrivacyOut)
async def get_privacy(resources: Res, user: CurrentUser) -> PrivacyOut:
    async with resources.sessionmaker() as session:
        return await service.privacy(session, user.tenant_id)


@router.put("/tenant/privacy", response_model=PrivacyOut)
async def put_privacy(body: PrivacyIn, resources: Res, admin: Admin) -> PrivacyOut:
    return await service.set_privacy(resources, admin, body)


@router.post("/customers/{customer_id}/anonymise", response_model=AnonymisedOut)
async def anonymise_customer(customer_id: IdPath, resources: Res, admin: Admin) -> AnonymisedOut:
    """Irreversibly blank the customer's personal fields; counts in reports stay the same.

    Refused (409) while an agent holds the customer, and once it is anonymised.
    """
    return await service.anonymise(resources, admin, customer_id)
