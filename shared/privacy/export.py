"""The subject-access export (GDPR article 15; issue 15 point 5): everything held about one
customer, as JSON.

Composed of sections, each a function of (session, tenant id, customer id) that reads one kind
of record; a new kind of record about customers (consent, register hits) is one more line in
SECTIONS. Every row is given whole (all its columns): the export shows what is held, not a
view of it.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contact.consent import consent_history, register_hits
from shared.models import (
    Correction,
    Customer,
    Event,
    Meeting,
    Membership,
    PipelineRequest,
    PipelineRequestEvent,
    PipelineTask,
    Product,
    Tenant,
)
from shared.models.base import Base

Section = Callable[[AsyncSession, int, int], Awaitable[Any]]


def columns(row: Base) -> dict[str, Any]:
    """Every column of the row, as JSON values."""
    values = {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}
    jsonable: dict[str, Any] = to_jsonable_python(values)
    return jsonable


async def _rows(session: AsyncSession, query: Any) -> list[dict[str, Any]]:
    return [columns(row) for row in await session.scalars(query)]


async def customer(session: AsyncSession, tenant_id: int, customer_id: int) -> Any:
    found = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.tenant_id == tenant_id)
    )
    return None if found is None else columns(found)


async def controller(session: AsyncSession, tenant_id: int, customer_id: int) -> Any:
    """Who controls the data and why it is processed (rule 5)."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    return {
        "data_controller": tenant.data_controller,
        "processing_purpose": tenant.processing_purpose,
    }


async def membership(session: AsyncSession, tenant_id: int, customer_id: int) -> Any:
    found = await session.scalar(
        select(Membership).where(
            Membership.customer_id == customer_id, Membership.tenant_id == tenant_id
        )
    )
    return None if found is None else columns(found)


# The records that name their customer and tenant; each section is all of one kind, oldest
# first. Events are the whole history across assignments (rule 25).
Owned = type[Event] | type[Product] | type[Meeting] | type[Correction]


def owned(model: Owned) -> Section:
    async def section(session: AsyncSession, tenant_id: int, customer_id: int) -> Any:
        query = select(model).where(model.customer_id == customer_id, model.tenant_id == tenant_id)
        return await _rows(session, query.order_by(model.id))

    return section


async def care_requests(session: AsyncSession, tenant_id: int, customer_id: int) -> Any:
    """Requests of the care pipeline where the customer is the prospect or the contact
    person, each with its history and tasks."""
    requests = list(
        await session.scalars(
            select(PipelineRequest)
            .where(
                PipelineRequest.tenant_id == tenant_id,
                or_(
                    PipelineRequest.prospect_id == customer_id,
                    PipelineRequest.contact_id == customer_id,
                ),
            )
            .order_by(PipelineRequest.id)
        )
    )
    out = []
    for request in requests:
        history = select(PipelineRequestEvent).where(PipelineRequestEvent.request_id == request.id)
        tasks = select(PipelineTask).where(PipelineTask.request_id == request.id)
        out.append(
            {
                **columns(request),
                "events": await _rows(session, history.order_by(PipelineRequestEvent.id)),
                "tasks": await _rows(session, tasks.order_by(PipelineTask.id)),
            }
        )
    return out


# The export's sections, in the order they appear.
SECTIONS: list[tuple[str, Section]] = [
    ("customer", customer),
    ("data_controller", controller),
    ("membership", membership),
    ("events", owned(Event)),
    ("products", owned(Product)),
    ("meetings", owned(Meeting)),
    ("corrections", owned(Correction)),
    ("care_requests", care_requests),
    ("consents", consent_history),
    ("register_hits", register_hits),
]


async def subject_access(session: AsyncSession, tenant_id: int, customer_id: int) -> dict[str, Any]:
    """Every section about the tenant's customer; the caller checked that it exists."""
    return {name: await section(session, tenant_id, customer_id) for name, section in SECTIONS}
