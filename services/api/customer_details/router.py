"""Customer details, history and CRM edits (rule 24). Reading never takes the customer."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.api.audit.recording import audit_now
from services.api.customer_details import editing, meetings, service
from services.api.customer_details.schemas import (
    CustomerCreate,
    CustomerDetails,
    CustomerEdit,
    EventPage,
)
from services.api.deps import Agent, Res
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.pagination import IdKey, PageRequest, paging
from shared.audit import AuditAction

router = APIRouter(tags=["customer details"])

EventPages = Annotated[PageRequest[IdKey], Depends(paging(service.EVENTS))]


@router.post(
    "/customers",
    responses=refuses(
        "fields against the tenant's custom fields (undeclared, of another "
        "type, required) or a value that is no phone number, e-mail address or "
        "time zone"
    ),
    summary="Create a customer",
    response_model=CustomerDetails,
    status_code=status.HTTP_201_CREATED,
)
async def create_customer(body: CustomerCreate, resources: Res, agent: Agent) -> CustomerDetails:
    """One customer in no assignment; same e-mail or phone as a profile answers 409 with it."""
    return await editing.create(resources, agent, body)


# `:int`: the id is digits, so that /customers/search (a route of its own, GET only) is never
# read as an id: PATCH /customers/search answers 405, not 422.
@router.get(
    "/customers/{customer_id:int}", summary="Customer details", response_model=CustomerDetails
)
async def customer_details(customer_id: IdPath, resources: Res, agent: Agent) -> CustomerDetails:
    """CRM fields, privacy, where the customer stands, who holds it, products and meetings.

    Reading never takes the customer; every read is audit-logged."""
    async with resources.sessionmaker() as session:
        details = await service.details(session, resources.redis, agent, customer_id)
    await audit_now(resources, agent, AuditAction.customer_read, ("customer", customer_id))
    return details


@router.patch(
    "/customers/{customer_id:int}",
    responses=refuses(
        "fields against the tenant's custom fields (undeclared, of another "
        "type, required) or a value that is no phone number, e-mail address or "
        "time zone"
    ),
    summary="Edit a customer",
    response_model=CustomerDetails,
)
async def edit_customer(
    customer_id: IdPath, body: CustomerEdit, resources: Res, agent: Agent
) -> CustomerDetails:
    """Change CRM fields with the import's checks; the history records old and new values."""
    return await editing.edit(resources, agent, customer_id, body)


@router.get(
    "/customers/{customer_id}/events", summary="A customer's history", response_model=EventPage
)
async def customer_events(
    customer_id: IdPath,
    resources: Res,
    agent: Agent,
    page: EventPages,
) -> EventPage:
    """Every event across assignments, newest first; page on with `next`. Audit-logged."""
    async with resources.sessionmaker() as session:
        events = await service.events_page(session, agent, customer_id, page=page)
    target = ("customer", customer_id)
    await audit_now(resources, agent, AuditAction.customer_history_read, target)
    return events


@router.post(
    "/customers/{customer_id}/meetings/{meeting_id}/cancel",
    summary="Cancel a meeting",
    response_model=CustomerDetails,
)
async def cancel_meeting(
    customer_id: IdPath, meeting_id: IdPath, resources: Res, agent: Agent
) -> CustomerDetails:
    """Cancel a booked meeting: it stays on the customer, marked cancelled, with an event."""
    async with resources.session() as session:
        await meetings.cancel_meeting(session, agent, customer_id, meeting_id)
    async with resources.sessionmaker() as session:
        return await service.details(session, resources.redis, agent, customer_id)
