"""Customer search (rule 4). Registered before /customers/{customer_id}: "search" is no id."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.api.audit.recording import audit_now
from services.api.customer_details.access import sees_every_assignment
from services.api.deps import Agent, Res
from services.api.errors import Forbidden
from services.api.fields import Text
from services.api.pagination import PageRequest, paging
from services.api.ratelimit.deps import limited
from services.api.ratelimit.limiter import Expensive
from services.api.search import service
from services.api.search.schemas import SearchOut
from shared.audit import AuditAction

router = APIRouter(tags=["search"])

SearchPages = Annotated[PageRequest[service.SearchKey], Depends(paging(service.SEARCH))]
_Q = "a few letters of a name, a phone number, an e-mail address or an external id"
_FULL = "search all the tenant's customers, whatever their assignment (extended handling)"


@router.get(
    "/customers/search",
    summary="Search customers",
    response_model=SearchOut,
    dependencies=[limited(Expensive.search)],
)
async def search_customers(
    resources: Res,
    agent: Agent,
    q: Annotated[Text, Query(min_length=1, max_length=200, description=_Q)],
    page: SearchPages,
    full: Annotated[bool, Query(description=_FULL)] = False,
) -> SearchOut:
    """Customers in assignments open to the caller or in none; `full` searches them all
    (audit-logged, without the query)."""
    if full and not sees_every_assignment(agent):
        raise Forbidden("full search needs the 'extended_handling' permission")
    async with resources.sessionmaker() as session:
        found = await service.search(session, agent, q, full=full, page=page)
    if full:
        await audit_now(resources, agent, AuditAction.customer_searched_full, hits=len(found.items))
    return found
