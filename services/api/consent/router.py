"""/v1/customers/{id}/consents: consent per channel, given or withdrawn (rule 34).

Whoever handles the customer records it: a customer says "do not call me again" on a call,
and the agent on that call must be able to act on it. A phone consent withdrawn takes the
customer out of a queue that requires consent before the answer (counted under
nextcall_contact_bars_total{reason="consent"}); one given puts it back.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.api.consent import service
from services.api.consent.schemas import ConsentCreate, ConsentOut
from services.api.deps import Agent, Res
from services.api.fields import IdPath
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging

router = APIRouter(tags=["consent"])

ConsentPages = Annotated[PageRequest[IdKey], Depends(paging(service.CONSENTS))]


@router.get("/customers/{customer_id}/consents", summary="List a customer's consents")
async def list_consents(
    customer_id: IdPath, principal: Agent, resources: Res, page: ConsentPages
) -> Page[ConsentOut]:
    """The customer's consent history, newest first."""
    async with resources.session() as session:
        rows = await service.history(session, principal, customer_id, page=page)
        return page.answer(Page[ConsentOut], rows, key=by_id, item=service.consent_out)


@router.post(
    "/customers/{customer_id}/consents",
    summary="Record a consent given or withdrawn",
    status_code=status.HTTP_201_CREATED,
)
async def record_consent(
    customer_id: IdPath, body: ConsentCreate, principal: Agent, resources: Res
) -> ConsentOut:
    """Appended to the history; a phone consent takes effect on the queue at once."""
    async with resources.session() as session:
        entry, assignment = await service.record(session, principal, customer_id, body)
        out = service.consent_out(entry)
    if assignment is not None:
        await service.replace(resources, assignment, customer_id, given=body.given)
    return out
